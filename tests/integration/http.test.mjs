// Raw HTTP and CLI behaviour of the llama-stack binary (no SDKs).
//
//   LLAMA_STACK_BIN=/work/main/build/release/llama-stack node --test tests/integration/

import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  makeTmpDir,
  removeTmpDir,
  runCli,
  startServer,
  withServerLog,
  writeConfig,
} from '../clients/lib/server.mjs';

const CONFIG = `
version: 2
image_name: http-test
apis: [inference]
providers:
  inference:
  - provider_id: ollama
    provider_type: remote::ollama
    config: {url: "http://127.0.0.1:9"}
metadata_store:
  type: sqlite
  db_path: "{{TMP}}/registry.db"
models:
- model_id: llama3.2:3b
  provider_id: ollama
`;

const SMALL_BODY_CONFIG = `${CONFIG}
server:
  max_request_body_bytes: 1024
`;

let server = null;
const it = (name, fn) => test(name, withServerLog(() => server, fn));

async function getJson(url, init) {
  const res = await fetch(url, init);
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    assert.fail(`${init?.method ?? 'GET'} ${url} → ${res.status}: body is not JSON: ${JSON.stringify(text)}`);
  }
  return { res, body, text };
}

const postJson = (url, rawBody) =>
  getJson(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: rawBody });

// Checks the error body shape {"detail": str, "error": {"message": str, "type": str}}; returns the message.
function assertErrorBody(body, what) {
  assert.equal(typeof body.detail, 'string', `${what}: detail must be a string: ${JSON.stringify(body)}`);
  assert.equal(typeof body.error?.message, 'string', `${what}: error.message missing: ${JSON.stringify(body)}`);
  assert.equal(typeof body.error?.type, 'string', `${what}: error.type missing: ${JSON.stringify(body)}`);
  return body.error.message;
}

// ---------------------------------------------------------------------------------------------
// Minimal HTTP/1.1 response parser for the pipelining test.
function parseResponses(buf) {
  const responses = [];
  let off = 0;
  for (;;) {
    const headEnd = buf.indexOf('\r\n\r\n', off);
    if (headEnd < 0) break;
    const head = buf.subarray(off, headEnd).toString('latin1');
    const [statusLine, ...headerLines] = head.split('\r\n');
    const status = Number(statusLine.split(' ')[1]);
    const headers = {};
    for (const line of headerLines) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    let pos = headEnd + 4;
    let body;
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const parts = [];
      let complete = false;
      for (;;) {
        const lineEnd = buf.indexOf('\r\n', pos);
        if (lineEnd < 0) break;
        const size = parseInt(buf.subarray(pos, lineEnd).toString('latin1'), 16);
        if (size === 0) {
          const trailerEnd = buf.indexOf('\r\n\r\n', lineEnd);
          if (trailerEnd < 0) break;
          pos = trailerEnd + 4;
          complete = true;
          break;
        }
        if (buf.length < lineEnd + 2 + size + 2) break;
        parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
        pos = lineEnd + 2 + size + 2;
      }
      if (!complete) break;
      body = Buffer.concat(parts);
    } else {
      const len = Number(headers['content-length'] ?? 0);
      if (buf.length < pos + len) break;
      body = buf.subarray(pos, pos + len);
      pos += len;
    }
    responses.push({ statusLine, status, headers, body: body.toString('utf8') });
    off = pos;
  }
  return responses;
}

function rawExchange(port, payload, wantResponses, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(
        new Error(
          `timed out waiting for ${wantResponses} responses; got ${parseResponses(buf).length}: ` +
            JSON.stringify(buf.toString('latin1')),
        ),
      );
    }, timeoutMs);
    const finish = (err) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(parseResponses(buf));
    };
    sock.on('connect', () => sock.write(payload));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (parseResponses(buf).length >= wantResponses) finish();
    });
    sock.on('end', () => finish());
    sock.on('error', (e) => finish(e));
  });
}

// ---------------------------------------------------------------------------------------------
describe('HTTP server', () => {
  before(async () => {
    server = await startServer(CONFIG);
  });
  after(async () => {
    if (server) {
      const s = server;
      await s.stop();
      await removeTmpDir(s.tmpDir);
    }
  });

  it('GET /v1/health → 200 {"status":"OK"} with an x-trace-id', async () => {
    const { res, body } = await getJson(`${server.baseUrl}/v1/health`);
    assert.equal(res.status, 200);
    assert.deepEqual(body, { status: 'OK' });
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    assert.match(res.headers.get('x-trace-id') ?? '', /^[0-9a-f]{32}$/);
    const second = await fetch(`${server.baseUrl}/v1/health`);
    await second.text();
    assert.notEqual(second.headers.get('x-trace-id'), res.headers.get('x-trace-id'), 'trace ids must differ');
  });

  it('a W3C traceparent header sets the x-trace-id', async () => {
    const res = await fetch(`${server.baseUrl}/v1/health`, {
      headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    });
    await res.text();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-trace-id'), '0af7651916cd43dd8448eb211c80319c');
  });

  it('unknown route → 404 with detail and error.{message,type}', async () => {
    const { res, body } = await getJson(`${server.baseUrl}/v1/nope`);
    assert.equal(res.status, 404);
    assertErrorBody(body, 'GET /v1/nope');
  });

  it('wrong method → 405 with an Allow header', async () => {
    const { res, body } = await getJson(`${server.baseUrl}/v1/models`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(res.status, 405);
    const allow = res.headers.get('allow');
    assert.ok(allow, 'no Allow header on 405');
    const methods = allow.split(',').map((m) => m.trim().toUpperCase());
    assert.ok(methods.includes('GET') && methods.includes('POST'), `Allow: ${allow}`);
    assert.ok(!methods.includes('PUT'), `Allow: ${allow}`);
    assertErrorBody(body, 'PUT /v1/models');
  });

  it('malformed JSON → 400 naming line and column', async () => {
    const { res, body } = await postJson(`${server.baseUrl}/v1/models`, '{"model_id": ');
    assert.equal(res.status, 400);
    const msg = assertErrorBody(body, 'malformed JSON');
    assert.match(msg, /line/i);
    assert.match(msg, /column/i);
  });

  it('missing required field → 400 naming model_id', async () => {
    const { res, body } = await postJson(`${server.baseUrl}/v1/models`, '{}');
    assert.equal(res.status, 400);
    assert.match(assertErrorBody(body, 'missing field'), /model_id/);
  });

  it('wrong field type → 400 naming model_id', async () => {
    const { res, body } = await postJson(`${server.baseUrl}/v1/models`, '{"model_id": 5}');
    assert.equal(res.status, 400);
    assert.match(assertErrorBody(body, 'wrong type'), /model_id/);
  });

  it('keep-alive + pipelining: two requests in one write get two ordered responses', async () => {
    const req1 = 'GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n';
    const req2 = 'GET /v1/version HTTP/1.1\r\nHost: x\r\n\r\n';
    // first: two identical requests, as specified
    let responses = await rawExchange(server.port, req1 + req1, 2);
    assert.equal(responses.length, 2, `got ${responses.length} responses`);
    for (const r of responses) {
      assert.equal(r.status, 200, r.statusLine);
      assert.deepEqual(JSON.parse(r.body), { status: 'OK' });
    }
    // then: two different requests, to check the order
    responses = await rawExchange(server.port, req1 + req2, 2);
    assert.equal(responses.length, 2);
    assert.equal(responses[0].status, 200);
    assert.deepEqual(JSON.parse(responses[0].body), { status: 'OK' });
    assert.equal(responses[1].status, 200);
    assert.equal(typeof JSON.parse(responses[1].body).version, 'string');
  });

  it('GET /v1/inspect/routes lists /v1/models/{model_id:path}', async () => {
    const { res, body } = await getJson(`${server.baseUrl}/v1/inspect/routes`);
    assert.equal(res.status, 200);
    assert.ok(Array.isArray(body.data));
    const routes = body.data.map((r) => `${r.method} ${r.route}`);
    assert.ok(routes.includes('GET /v1/models/{model_id:path}'), routes.join('\n'));
  });

  it('numbers keep their shortest form (0.7, not 7E-1)', async () => {
    const { res, text, body } = await postJson(
      `${server.baseUrl}/v1/models`,
      JSON.stringify({
        model_id: 'numbers-model',
        provider_id: 'ollama',
        metadata: { temperature: 0.7, embedding_dimension: 384 },
      }),
    );
    assert.equal(res.status, 200, text);
    assert.ok(text.includes('0.7'), text);
    assert.ok(!/7E-1/i.test(text), text);
    assert.ok(!text.includes('0.69999'), text);
    assert.equal(body.metadata.temperature, 0.7);
    assert.equal(body.metadata.embedding_dimension, 384);
    assert.ok(/"embedding_dimension"\s*:\s*384[,}\s]/.test(text), `384 not serialised as an integer: ${text}`);
  });

  it('/v1/openai/v1/models returns OpenAI model objects', async () => {
    const { res, body } = await getJson(`${server.baseUrl}/v1/openai/v1/models`);
    assert.equal(res.status, 200);
    assert.ok(Array.isArray(body.data) && body.data.length > 0, JSON.stringify(body));
    for (const m of body.data) {
      assert.equal(typeof m.id, 'string');
      assert.equal(m.object, 'model');
      assert.ok(Number.isInteger(m.created), JSON.stringify(m));
      assert.equal(typeof m.owned_by, 'string');
    }
    assert.ok(body.data.some((m) => m.id === 'llama3.2:3b'), JSON.stringify(body));
  });
});

// ---------------------------------------------------------------------------------------------
describe('request body limit', () => {
  let small = null;
  before(async () => {
    small = await startServer(SMALL_BODY_CONFIG);
  });
  after(async () => {
    if (small) {
      await small.stop();
      await removeTmpDir(small.tmpDir);
    }
  });

  test(
    'a body over server.max_request_body_bytes → 413',
    withServerLog(
      () => small,
      async () => {
        const big = JSON.stringify({ model_id: 'big', metadata: { pad: 'x'.repeat(4096) } });
        const res = await fetch(`${small.baseUrl}/v1/models`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: big,
        });
        await res.text();
        assert.equal(res.status, 413);
        // a small body is still accepted by the same server
        const ok = await fetch(`${small.baseUrl}/v1/health`);
        await ok.text();
        assert.equal(ok.status, 200);
      },
    ),
  );
});

// ---------------------------------------------------------------------------------------------
// Slow or silent clients are dropped: the header must arrive within
// idle_timeout_seconds, the body within request_timeout_seconds, and an idle
// keep-alive connection is closed after idle_timeout_seconds.
describe('connection timeouts', () => {
  let srv = null;
  before(async () => {
    srv = await startServer(`${CONFIG}
server:
  idle_timeout_seconds: 1
  request_timeout_seconds: 1
`);
  });
  after(async () => {
    if (srv) {
      await srv.stop();
      await removeTmpDir(srv.tmpDir);
    }
  });

  // Connects, writes `text`, and resolves with what came back and when the
  // server closed the connection.
  function untilClosed(text) {
    return new Promise((resolve, reject) => {
      const t0 = Date.now();
      let received = '';
      const socket = net.connect({ port: srv.port, host: '127.0.0.1' }, () => {
        if (text) socket.write(text);
      });
      socket.on('data', (d) => (received += d));
      socket.on('error', reject);
      socket.on('close', () => resolve({ received, ms: Date.now() - t0 }));
      setTimeout(() => {
        socket.destroy();
        reject(new Error('the server did not close the connection within 10 s'));
      }, 10_000);
    });
  }

  test('a client that sends nothing is dropped after idle_timeout_seconds', async () => {
    const { received, ms } = await untilClosed('');
    assert.equal(received, '');
    assert.ok(ms >= 900, `closed after ${ms} ms`);
  });

  test('a header that never completes is dropped (slowloris)', async () => {
    const { received, ms } = await untilClosed('GET /v1/health HTTP/1.1\r\nHost: x\r\n');
    assert.equal(received, '');
    assert.ok(ms >= 900, `closed after ${ms} ms`);
  });

  test('a body that never completes is dropped after request_timeout_seconds, unanswered', async () => {
    const { received, ms } = await untilClosed(
      'POST /v1/models HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"model_id"',
    );
    assert.equal(received, '');
    assert.ok(ms >= 900, `closed after ${ms} ms`);
  });

  test('an idle keep-alive connection is closed after its response', async () => {
    const { received, ms } = await untilClosed('GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(received, /^HTTP\/1\.1 200/);
    assert.ok(ms >= 900, `closed after ${ms} ms`);
  });
});

// ---------------------------------------------------------------------------------------------
describe('graceful shutdown', () => {
  test('SIGTERM → exit code 0 within 10 s', async () => {
    const srv = await startServer(CONFIG);
    try {
      const t0 = Date.now();
      const { code, signal, killed } = await srv.stop();
      assert.equal(killed, false, `needed SIGKILL; output:\n${srv.output()}`);
      assert.equal(signal, null, `died by signal ${signal}`);
      assert.equal(code, 0, `exit code ${code}; output:\n${srv.output()}`);
      assert.ok(Date.now() - t0 < 10_000);
    } finally {
      await removeTmpDir(srv.tmpDir);
    }
  });
});

// ---------------------------------------------------------------------------------------------
describe('CLI', () => {
  let dir;
  before(async () => {
    dir = await makeTmpDir('llama-stack-cli-configs-');
  });
  after(async () => {
    await removeTmpDir(dir);
  });

  const noUnset = { SOME_UNSET_VAR_XYZ: undefined };
  const cfg = (name, yaml) => writeConfig(yaml, dir, name);

  test('--version', async () => {
    const r = await runCli(['--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /\d+\.\d+\.\d+/);
  });

  test('validate <good.yaml> → 0', async () => {
    const file = await cfg('good.yaml', CONFIG);
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 0, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  });

  test('validate with an unknown provider_type → 1, names the key path, file and supported types', async () => {
    const file = await cfg(
      'bad-provider.yaml',
      `version: 2
image_name: bad
providers: {inference: [{provider_id: x, provider_type: remote::nope, config: {}}]}
`,
    );
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 1, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    assert.ok(r.stderr.includes('providers.inference[0]'), r.stderr);
    assert.ok(r.stderr.includes(path.basename(file)), r.stderr);
    assert.ok(r.stderr.includes('remote::nope'), r.stderr);
    assert.ok(r.stderr.includes('remote::ollama'), r.stderr);
  });

  test('validate with a provider not in this build → 1, "not available in this build"', async () => {
    const file = await cfg(
      'tgi.yaml',
      `version: 2
image_name: tgi
providers:
  inference:
  - provider_id: tgi
    provider_type: remote::tgi
    config: {url: "http://127.0.0.1:9"}
`,
    );
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.stderr.includes('not available in this build'), r.stderr);
  });

  test('validate with an unset ${env.VAR} → 1, names the variable', async () => {
    const file = await cfg(
      'unset-env.yaml',
      `version: 2
image_name: env
providers:
  inference:
  - provider_id: ollama
    provider_type: remote::ollama
    config: {url: "\${env.SOME_UNSET_VAR_XYZ}"}
`,
    );
    const r = await runCli(['validate', file], { env: noUnset });
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.stderr.includes('SOME_UNSET_VAR_XYZ'), r.stderr);
  });

  test('validate with ${env.VAR:=default} → 0', async () => {
    const file = await cfg(
      'default-env.yaml',
      `version: 2
image_name: env
providers:
  inference:
  - provider_id: ollama
    provider_type: remote::ollama
    config: {url: "\${env.SOME_UNSET_VAR_XYZ:=http://localhost:1}"}
`,
    );
    const r = await runCli(['validate', file], { env: noUnset });
    assert.equal(r.code, 0, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  });

  test('list-providers inference prints remote::ollama', async () => {
    const r = await runCli(['list-providers', 'inference']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes('remote::ollama'), r.stdout);
  });

  test('run --help → 0', async () => {
    const r = await runCli(['run', '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok((r.stdout + r.stderr).length > 0, 'no help text');
  });
});
