// The upstream HTTP client over TLS: certificate verification against a
// configured CA (vLLM's tls_verify: <CA path>), refusal of an unknown CA with
// the system trust store (tls_verify: true), and tls_verify: false.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';

import { makeTmpDir, removeTmpDir, startServer } from '../clients/lib/server.mjs';
import { fakeModelServerPath } from '../clients/lib/fake_model_server.mjs';

let dir;
let fake;
let fakePort;

before(async () => {
  dir = await makeTmpDir('llama-stack-upstream-tls-');
  const openssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=upstream-ca');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'up.key', '-out', 'up.csr', '-subj', '/CN=localhost');
  execFileSync('bash', ['-c', `printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ${path.join(dir, 'up.ext')}`]);
  openssl('x509', '-req', '-in', 'up.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'up.crt', '-days', '2', '-extfile', 'up.ext');
  fake = spawn(fakeModelServerPath(), ['--port', '0', '--tls-cert', path.join(dir, 'up.crt'), '--tls-key', path.join(dir, 'up.key')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  fakePort = await new Promise((resolve, reject) => {
    let out = '';
    fake.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on [\d.]+:(\d+)/);
      if (m) resolve(Number(m[1]));
    });
    fake.on('exit', (code) => reject(new Error(`fake exited ${code}`)));
  });
});

after(async () => {
  fake?.kill('SIGTERM');
  await removeTmpDir(dir);
});

function config(tlsVerify) {
  return `
version: 2
image_name: upstream-tls
apis: [inference]
providers:
  inference:
  - provider_id: vllm
    provider_type: remote::vllm
    config: {url: "https://localhost:${fakePort}/v1", tls_verify: "${tlsVerify}"}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
models:
- {model_id: m, provider_id: vllm, provider_model_id: llama3.2:3b}
`;
}

async function chat(server) {
  const res = await fetch(`${server.baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
  });
  return { status: res.status, body: await res.json() };
}

test('a configured CA verifies the upstream certificate', async () => {
  const server = await startServer(config(path.join(dir, 'ca.crt')));
  try {
    const r = await chat(server);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.choices[0].message.content, 'Hello from llama3.2:3b! You said: hi');
  } finally {
    await server.stop();
  }
});

test('an upstream certificate from an unknown CA is refused', async () => {
  const server = await startServer(config('true'));
  try {
    const r = await chat(server);
    assert.equal(r.status, 503);
    assert.match(r.body.detail, /TLS handshake .* failed/);
  } finally {
    await server.stop();
  }
});

test('tls_verify: false skips verification', async () => {
  const server = await startServer(config('false'));
  try {
    assert.equal((await chat(server)).status, 200);
  } finally {
    await server.stop();
  }
});
