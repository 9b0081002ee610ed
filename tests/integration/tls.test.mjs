// TLS and mutual TLS through the real binary, with certificates made by the
// openssl CLI for each run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import https from 'node:https';
import tls from 'node:tls';
import path from 'node:path';
import { readFileSync } from 'node:fs';

import { makeTmpDir, removeTmpDir, startServer, startServerExpectFailure } from '../clients/lib/server.mjs';
import { startFakeModelServer } from '../clients/lib/fake_model_server.mjs';
import { expectLeavingCancelsUpstream, expectPipelinedRequestAnswered, rawChatRequest } from '../clients/lib/in_flight.mjs';

let dir;
let pki;

function openssl(...args) {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function makeCert(name, caName, extra = []) {
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`,
    '-subj', `/CN=${name === 'server' ? 'localhost' : name}`);
  const ext = path.join(dir, `${name}.ext`);
  execFileSync('bash', ['-c', `printf '%s\n' "${extra.join('\\n')}" > ${ext}`]);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.crt`, '-CAkey', `${caName}.key`,
    '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', ext);
}

before(async () => {
  dir = await makeTmpDir('llama-stack-tls-');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt',
    '-days', '2', '-subj', '/CN=test-ca');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rogue-ca.key', '-out',
    'rogue-ca.crt', '-days', '2', '-subj', '/CN=rogue-ca');
  makeCert('server', 'ca', ['subjectAltName=DNS:localhost,IP:127.0.0.1']);
  makeCert('client', 'ca', ['extendedKeyUsage=clientAuth']);
  makeCert('intruder', 'rogue-ca', ['extendedKeyUsage=clientAuth']);
  const read = (f) => readFileSync(path.join(dir, f));
  pki = {
    ca: read('ca.crt'),
    clientCert: read('client.crt'),
    clientKey: read('client.key'),
    intruderCert: read('intruder.crt'),
    intruderKey: read('intruder.key'),
  };
});

after(async () => {
  await removeTmpDir(dir);
});

function get(url, options = {}) {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca: pki.ca, ...options }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body, protocol: res.socket?.getProtocol?.() }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
  });
}

function config(extra) {
  return `
version: 2
image_name: tls
providers: {}
server:
  tls_certfile: ${dir}/server.crt
  tls_keyfile: ${dir}/server.key
${extra ?? ''}`;
}

test('serves HTTPS with TLS 1.2+ only', async () => {
  const server = await startServer(config(), {
    scheme: 'https',
    healthOk: async (base) => get(`${base}/v1/health`).then((r) => r.status === 200, () => false),
  });
  try {
    const res = await get(`${server.baseUrl}/v1/health`);
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { status: 'OK' });
    // Plain HTTP on the TLS port is not served.
    await assert.rejects(fetch(`http://127.0.0.1:${server.port}/v1/health`));
    // TLS 1.1 is refused at the handshake.
    await assert.rejects(
      new Promise((resolve, reject) => {
        const s = tls.connect({ port: server.port, host: '127.0.0.1', ca: pki.ca, servername: 'localhost',
          minVersion: 'TLSv1', maxVersion: 'TLSv1.1' }, () => { s.end(); resolve(); });
        s.on('error', reject);
      }),
    );
  } finally {
    await server.stop();
  }
});

test('mutual TLS: clients without a certificate from the CA are refused', async () => {
  const withClientCert = { cert: pki.clientCert, key: pki.clientKey };
  const server = await startServer(config(`  tls_cafile: ${dir}/ca.crt\n`), {
    scheme: 'https',
    healthOk: async (base) =>
      get(`${base}/v1/health`, withClientCert).then((r) => r.status === 200, () => false),
  });
  try {
    const ok = await get(`${server.baseUrl}/v1/health`, withClientCert);
    assert.equal(ok.status, 200);
    await assert.rejects(get(`${server.baseUrl}/v1/health`));
    await assert.rejects(get(`${server.baseUrl}/v1/health`, { cert: pki.intruderCert, key: pki.intruderKey }));
    // The server is still healthy after refused handshakes.
    assert.equal((await get(`${server.baseUrl}/v1/health`, withClientCert)).status, 200);
  } finally {
    await server.stop();
  }
});

test('a missing certificate file is a startup error naming the file', async () => {
  const result = await startServerExpectFailure(`
version: 2
image_name: tls
providers: {}
server:
  tls_certfile: ${dir}/nope.crt
  tls_keyfile: ${dir}/server.key
`);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /nope\.crt/);
});

test('a key that does not match the certificate is a startup error', async () => {
  const result = await startServerExpectFailure(`
version: 2
image_name: tls
providers: {}
server:
  tls_certfile: ${dir}/server.crt
  tls_keyfile: ${dir}/client.key
`);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /client\.key/);
  assert.match(result.stderr, /mismatch|does not match/);
});

// Over TLS the server cannot peek at the socket to notice a client that left:
// it keeps a real TLS read pending while the handler waits.
test('TLS: a client that leaves while waiting cancels the upstream call; pipelined requests still work', async () => {
  const fake = await startFakeModelServer();
  const server = await startServer(`
version: 2
image_name: tls-inference
apis: [inference]
providers:
  inference:
  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "${fake.baseUrl}/v1"}}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
models:
- {model_id: m, provider_id: vllm, provider_model_id: llama3.2:3b}
server:
  tls_certfile: ${dir}/server.crt
  tls_keyfile: ${dir}/server.key
`, {
    scheme: 'https',
    healthOk: async (base) => get(`${base}/v1/health`).then((r) => r.status === 200, () => false),
  });
  const connect = () => new Promise((resolve, reject) => {
    const s = tls.connect({ port: server.port, host: '127.0.0.1', ca: pki.ca, servername: 'localhost' }, () => resolve(s));
    s.on('error', reject);
  });
  const request = rawChatRequest({ model: 'm', messages: [{ role: 'user', content: 'hi there' }] });
  try {
    await expectLeavingCancelsUpstream(fake, connect, request);
    await expectPipelinedRequestAnswered(fake, connect, request);
  } finally {
    await server.stop();
    await fake.stop();
  }
});
