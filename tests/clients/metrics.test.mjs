// Prometheus metrics (GET /metrics): a real Prometheus server (Debian's
// package) scrapes the guide's example run.yaml (with a fake Ollama) on its
// own metrics port, and its query API returns the request, token and
// auth-failure counts this test caused; on the API port /metrics follows the
// server's authentication.
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { startFakeModelServer } from './lib/fake_model_server.mjs';
import { startIdentityServer } from './lib/identity_server.mjs';
import { startPrometheus } from './lib/prometheus.mjs';
import { freePort, startServer } from './lib/server.mjs';

const guide = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'data', 'guide', 'guide-ollama.yaml');

async function chat(server, token, content, extra = {}) {
  const res = await fetch(`${server.baseUrl}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content }], ...extra }),
  });
  return res;
}

// Polls an instant query until `accept(value)` (the sum of the result vector).
async function eventually(prom, expr, accept) {
  let last;
  for (let i = 0; i < 150; i++) {
    const result = await prom.query(expr);
    last = result.reduce((s, r) => s + Number(r.value[1]), 0);
    if (result.length > 0 && accept(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${expr}: last value ${last}; targets ${JSON.stringify(await prom.targets())}\n${prom.log()}`);
}

test('a real Prometheus scrapes the metrics port and counts the requests and tokens sent', async () => {
  const fake = await startFakeModelServer();
  const idp = await startIdentityServer();
  const token = idp.sign({ sub: 'alice' });
  const state = await mkdtemp(path.join(os.tmpdir(), 'metrics-'));
  const metricsPort = await freePort();
  const yaml = (await readFile(guide, 'utf8'))
    .replace('https://my-token-issuing-svc.com/jwks', idp.jwksUrl)
    .replace('server:\n  port: 8321\n',
      `server:\n  port: 8321\n  metrics:\n    port: ${metricsPort}\n    host: 127.0.0.1\n    bearer_token: scrape-secret\n`);
  const server = await startServer(yaml, { env: { INFERENCE_MODEL: 'llama3.2:3b', OLLAMA_URL: fake.baseUrl, SQLITE_STORE_DIR: state } });
  const prom = await startPrometheus([{ address: `127.0.0.1:${metricsPort}`, bearerToken: 'scrape-secret' }]);
  try {
    // The metrics port wants its bearer token; the API port does not serve /metrics.
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status, 401);
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    assert.equal((await fetch(`${server.baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status, 404);

    let prompt = 0;
    let completion = 0;
    for (const text of ['one', 'two three', 'four five six']) {
      const res = await chat(server, token, text);
      assert.equal(res.status, 200);
      const body = await res.json();
      prompt += body.usage.prompt_tokens;
      completion += body.usage.completion_tokens;
    }
    const streamed = await chat(server, token, 'a streamed one', { stream: true });
    assert.equal(streamed.status, 200);
    await streamed.text();
    assert.equal((await chat(server, 'not-a-jwt', 'refused')).status, 401);

    const route = 'route="/v1/chat/completions",method="POST"';
    assert.equal(await eventually(prom, `sum(llama_stack_http_requests_total{${route},status="200"})`, (v) => v >= 4), 4);
    assert.equal(await eventually(prom, `sum(llama_stack_http_requests_total{${route},status="401"})`, (v) => v >= 1), 1);
    assert.equal(await eventually(prom, 'sum(llama_stack_auth_failures_total)', (v) => v >= 1), 1);
    // Three non-streamed calls counted exactly; the streamed one adds its own usage.
    const prompts = await eventually(prom, 'sum(llama_stack_prompt_tokens_total{model="llama3.2:3b"})', (v) => v > prompt);
    assert.ok(prompts > prompt, `${prompts} > ${prompt}`);
    const completions = await eventually(prom, 'sum(llama_stack_completion_tokens_total{model="llama3.2:3b"})', (v) => v > completion);
    assert.ok(completions > completion);
    assert.equal(await eventually(prom, 'sum(llama_stack_upstream_request_duration_seconds_count{provider="ollama",model="llama3.2:3b"})', (v) => v >= 4), 4);
    assert.equal(await eventually(prom, 'sum(llama_stack_time_to_first_token_seconds_count{model="llama3.2:3b"})', (v) => v >= 1), 1);
    assert.equal(await eventually(prom, 'llama_stack_build_info', (v) => v >= 1), 1);
    assert.ok(await eventually(prom, 'process_resident_memory_bytes', (v) => v > 1e6) > 1e6);
    assert.ok(await eventually(prom, 'process_open_fds', (v) => v > 3) > 3);
    // No principal label unless principal_labels is on, and no raw paths.
    const series = await prom.query('llama_stack_prompt_tokens_total');
    assert.ok(series.every((s) => !('principal' in s.metric)), JSON.stringify(series));
  } finally {
    await prom.stop();
    await server.stop();
    await idp.stop();
    await fake.stop();
  }
});

test('on the API port /metrics needs an authenticated caller when the server has auth, unless require_auth is false', async () => {
  const idp = await startIdentityServer();
  const token = idp.sign({ sub: 'bob' });
  const base = (extra) => `version: 2
apis: [inference]
providers:
  inference: []
server:
  auth:
    provider_type: oauth2_token
    config:
      jwks: {uri: "${idp.jwksUrl}"}
      issuer: https://idp.test
      audience: llama-stack
${extra}`;
  const guarded = await startServer(base(''));
  try {
    assert.equal((await fetch(`${guarded.baseUrl}/metrics`)).status, 401);
    const ok = await fetch(`${guarded.baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    const text = await ok.text();
    assert.match(text, /^# TYPE llama_stack_http_requests_total counter$/m);
    // The refused scrape above is counted, by its route template.
    assert.match(text, /^llama_stack_http_requests_total\{route="\/metrics",method="GET",status="401"\} 1$/m);
    assert.match(text, /^llama_stack_auth_failures_total\{reason="missing_token"\} 1$/m);
    // Unrouted requests count as "unmatched", not by their path.
    await fetch(`${guarded.baseUrl}/no/such/path/42`);
    const after = await (await fetch(`${guarded.baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    assert.match(after, /^llama_stack_http_requests_total\{route="unmatched",method="GET",status="404"\} 1$/m);
    assert.doesNotMatch(after, /no\/such\/path/);
  } finally {
    await guarded.stop();
  }
  const open = await startServer(base('  metrics: {require_auth: false}\n'));
  try {
    assert.equal((await fetch(`${open.baseUrl}/metrics`)).status, 200);
  } finally {
    await open.stop();
  }
  const off = await startServer(base('  metrics: {enabled: false}\n'));
  try {
    assert.equal((await fetch(`${off.baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status, 404);
  } finally {
    await off.stop();
  }
  await idp.stop();
});
