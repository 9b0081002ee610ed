// Transport behaviour of the real binary: limits, malformed input, IPv6,
// logging configuration, graceful shutdown with idle keep-alive connections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { readFileSync } from 'node:fs';

import { startServer, makeTmpDir, removeTmpDir } from '../clients/lib/server.mjs';

const BASE_CONFIG = `
version: 2
image_name: server-test
providers:
  inference:
  - provider_id: ollama
    provider_type: remote::ollama
    config: {url: "\${env.TEST_OLLAMA_URL}"}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
server:
  max_header_bytes: 4096
`;

const ENV = { TEST_OLLAMA_URL: 'http://127.0.0.1:9' };

/** Sends raw bytes and collects everything until the server closes or `ms` passes. */
function rawExchange(port, payload, ms = 2000, host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host }, () => socket.write(payload));
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (c) => (data += c));
    socket.on('error', reject);
    socket.on('close', () => resolve(data));
    setTimeout(() => {
      socket.destroy();
      resolve(data);
    }, ms);
  });
}

test('oversized headers get 431 and the server keeps serving', async () => {
  const server = await startServer(BASE_CONFIG, { env: ENV });
  try {
    const big = 'x'.repeat(8000);
    const reply = await rawExchange(server.port, `GET /v1/health HTTP/1.1\r\nHost: a\r\nX-Big: ${big}\r\n\r\n`);
    assert.match(reply, /^HTTP\/1\.1 431 /);
    assert.match(reply, /"detail":"Request headers exceed the limit of 4096 bytes"/);
    assert.equal((await fetch(`${server.baseUrl}/v1/health`)).status, 200);
  } finally {
    await server.stop();
  }
});

test('malformed HTTP gets 400 and garbage never takes the server down', async () => {
  const server = await startServer(BASE_CONFIG, { env: ENV });
  try {
    const reply = await rawExchange(server.port, 'GET /v1/health HTTP/1.1\r\nHost a\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 400 /);
    await rawExchange(server.port, Buffer.from([0, 1, 2, 255, 254, 13, 10, 13, 10]), 500);
    await rawExchange(server.port, 'POST /v1/models HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n{"trunc', 500);
    const bad = await fetch(`${server.baseUrl}/v1/models`, { method: 'POST', body: '[1,2]' });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).detail, /must be a JSON object/);
    assert.equal((await fetch(`${server.baseUrl}/v1/health`)).status, 200);
  } finally {
    await server.stop();
  }
});

test('many concurrent connections are all answered', async () => {
  const server = await startServer(BASE_CONFIG, { env: ENV });
  try {
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        fetch(`${server.baseUrl}/v1/models/${i % 2 ? 'missing' : 'x'}`).then((r) => r.status),
      ),
    );
    assert.equal(results.length, 200);
    assert.ok(results.every((s) => s === 404));
  } finally {
    await server.stop();
  }
});

test('with no host configured the server listens on IPv6 and IPv4', async (t) => {
  const server = await startServer(BASE_CONFIG, { env: ENV });
  try {
    const v6 = await rawExchange(server.port, 'GET /v1/health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', 2000, '::1').catch(
      (e) => e,
    );
    if (v6 instanceof Error && /EADDRNOTAVAIL|EAFNOSUPPORT/.test(v6.code ?? '')) {
      t.skip('no IPv6 loopback on this machine');
      return;
    }
    assert.match(v6, /^HTTP\/1\.1 200 /);
    assert.equal((await fetch(`${server.baseUrl}/v1/health`)).status, 200);
  } finally {
    await server.stop();
  }
});

test('--env feeds ${env.X} and the log honours LLAMA_STACK_LOGGING and LLAMA_STACK_LOG_FILE', async () => {
  const dir = await makeTmpDir();
  const logFile = path.join(dir, 'server.log');
  const server = await startServer(BASE_CONFIG, {
    tmpDir: dir,
    extraArgs: ['--env', 'TEST_OLLAMA_URL=http://127.0.0.1:7'],
    env: { TEST_OLLAMA_URL: undefined, LLAMA_STACK_LOG_FILE: logFile, LLAMA_STACK_LOGGING: 'server=debug;nonsense=info' },
  });
  try {
    const info = await (await fetch(`${server.baseUrl}/v1/providers/ollama`)).json();
    assert.equal(info.config.url, 'http://127.0.0.1:7');
    await server.stop();
    const log = readFileSync(logFile, 'utf8');
    // time logger:line [category]: message
    assert.match(log, /^INFO \d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \S+\.cc:\d+ \[server\]: Listening on /m);
    assert.match(log, /"GET \/v1\/providers\/ollama" 200 /);
    assert.match(log, /unknown logging category 'nonsense'/);
  } finally {
    await server.stop();
    await removeTmpDir(dir);
  }
});

test('SIGTERM with idle keep-alive connections exits cleanly without waiting out the deadline', async () => {
  // A shutdown deadline far beyond the helper's 10 s SIGKILL grace: exiting on
  // SIGTERM at all (killed === false) proves idle connections were closed.
  const server = await startServer(BASE_CONFIG.replace('max_header_bytes: 4096', 'shutdown_timeout_seconds: 600'), {
    env: ENV,
  });
  const sockets = [];
  for (let i = 0; i < 5; i++) {
    const s = net.connect({ port: server.port, host: '127.0.0.1' });
    await new Promise((r) => s.on('connect', r));
    s.write('GET /v1/health HTTP/1.1\r\nHost: a\r\n\r\n');
    await new Promise((r) => s.once('data', r));
    s.on('error', () => {});
    sockets.push(s);
  }
  const result = await server.stop();
  assert.equal(result.killed, false);
  assert.equal(result.code, 0);
  for (const s of sockets) s.destroy();
});

test('only the APIs listed in `apis` are served', async () => {
  const server = await startServer(
    BASE_CONFIG.replace('image_name: server-test', 'image_name: server-test\napis: [inference]'),
    { env: ENV },
  );
  try {
    assert.equal((await fetch(`${server.baseUrl}/v1/models`)).status, 200);
    assert.equal((await fetch(`${server.baseUrl}/v1/shields`)).status, 404);
    assert.equal((await fetch(`${server.baseUrl}/v1/vector-dbs`)).status, 404);
    const routes = (await (await fetch(`${server.baseUrl}/v1/inspect/routes`)).json()).data;
    assert.ok(routes.some((r) => r.route === '/v1/models'));
    assert.ok(!routes.some((r) => r.route.startsWith('/v1/shields')));
  } finally {
    await server.stop();
  }
});
