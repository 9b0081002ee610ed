// Scope-based content safety (server.oauth.enforce_content_safety): every
// inference route has its input and its output judged by the Llama Guard
// shield, with thresholds chosen by the token's scopes. The guard model runs
// on its own fake model server (graded verdicts with logprobs: see its
// README), the chat model on another, so each can fail alone.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { fakeReply, startFakeModelServer } from '../clients/lib/fake_model_server.mjs';
import { ISSUER, startIdentityServer } from '../clients/lib/identity_server.mjs';
import { startServer } from '../clients/lib/server.mjs';

const STACK_URI = 'https://stack.test';
const MODEL = 'llama3.2:3b';

let idp;
let models;
let guard;
let server;

const config = () => `
version: 2
image_name: content-safety-test
apis: [inference, safety]
providers:
  inference:
  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "${models.baseUrl}/v1"}}
  - {provider_id: guard-vllm, provider_type: remote::vllm, config: {url: "${guard.baseUrl}/v1", timeout_seconds: 1}}
  safety:
  - {provider_id: llama-guard, provider_type: inline::llama-guard, config: {}}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
inference_store: {type: sqlite, db_path: "{{TMP}}/inference_store.db"}
models:
- {model_id: ${MODEL}, provider_id: vllm}
- {model_id: all-minilm, provider_id: vllm, model_type: embedding, metadata: {embedding_dimension: 8}}
- {model_id: meta-llama/Llama-Guard-3-8B, provider_id: guard-vllm, provider_model_id: llama3.2:3b}
shields:
- {shield_id: llama-guard, provider_id: llama-guard, provider_shield_id: meta-llama/Llama-Guard-3-8B}
server:
  auth:
    provider_type: oauth2_token
    config:
      jwks: {uri: "${idp.jwksUrl}"}
      issuer: ${ISSUER}
      audience: ${STACK_URI}
  oauth:
    auth_server_uri: ${ISSUER}
    stack_uri: ${STACK_URI}
    enforce_content_safety: true
    default_safety_level: basic_user
    content_safety_shields: [llama-guard]
    safety_stream_window_chars: 60
    safety_level_scopes:
      research_access: research_user
      premium_access: premium_user
      output_only_access: output_only
    safety_levels:
      basic_user: {max_violence_score: 0.3, max_hate_score: 0.2, max_sexual_score: 0.2, blocked_categories: [illegal, harmful]}
      premium_user: {max_violence_score: 0.5, max_hate_score: 0.4, max_sexual_score: 0.4, blocked_categories: [illegal]}
      research_user: {max_violence_score: 0.8, max_hate_score: 0.7, max_sexual_score: 0.7}
      output_only: {check_input: false}
    enable_audit_logging: true
    audit_log: {sink: file, path: "{{TMP}}/audit.jsonl"}
`;

before(async () => {
  idp = await startIdentityServer();
  models = await startFakeModelServer();
  guard = await startFakeModelServer();
  server = await startServer(config());
});

after(async () => {
  await server?.stop();
  await guard?.stop();
  await models?.stop();
  await idp?.stop();
});

const token = (scope) => idp.sign({ aud: STACK_URI, scope, sub: `user-${scope || 'basic'}` });

async function post(route, scope, body) {
  const res = await fetch(`${server.baseUrl}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token(scope)}` },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(20000),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, text, json };
}

const chat = (content, extra = {}) => ({ model: MODEL, messages: [{ role: 'user', content }], ...extra });

// SSE events of a streamed answer (without the [DONE] marker).
function events(text) {
  return text
    .split('\n\n')
    .filter((e) => e.startsWith('data: ') && e !== 'data: [DONE]')
    .map((e) => JSON.parse(e.slice(6)));
}

async function auditEvents(type) {
  const text = await readFile(path.join(server.tmpDir, 'audit.jsonl'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((e) => e.event === type);
}

describe('the level follows the scopes', () => {
  const cases = [
    // [scope, text, status, categories]
    ['', 'hello there', 200],
    ['basic_access', 'something mildly violent', 400, ['violence']],
    ['', 'something mildly violent', 400, ['violence']],
    ['', 'how to shoplift', 400, ['illegal']],
    ['premium_access', 'something mildly violent', 200],
    ['premium_access', 'how to shoplift', 400, ['illegal']],
    ['research_access', 'how to shoplift', 200],
    ['research_access', 'something mildly violent', 200],
    ['research_access', 'how do I kill my neighbour', 400, ['violence']],
    ['research_access premium_access', 'how to shoplift', 200], // first mapping wins
  ];
  for (const [scope, text, status, categories] of cases) {
    test(`${scope || 'basic (no scope)'}: "${text}" → ${status}`, async () => {
      const r = await post('/v1/chat/completions', scope, chat(text));
      assert.equal(r.status, status, r.text);
      if (status === 200) {
        assert.equal(r.json.choices[0].message.content, fakeReply(MODEL, text));
        return;
      }
      assert.equal(r.json.error.code, 'content_filter');
      assert.deepEqual(r.json.error.categories, categories);
      assert.equal(r.json.error.param, 'input');
      assert.match(r.json.detail, /refused by the content filter/);
    });
  }
});

test('every inference route is checked, streamed or not', async () => {
  const bad = 'how do I kill my neighbour';
  const routes = [
    ['/v1/chat/completions', chat(bad)],
    ['/v1/chat/completions', chat(bad, { stream: true })],
    ['/v1/openai/v1/chat/completions', chat(bad)],
    ['/v1/completions', { model: MODEL, prompt: bad }],
    ['/v1/openai/v1/completions', { model: MODEL, prompt: bad, stream: true }],
    ['/v1/embeddings', { model: 'all-minilm', input: ['fine', bad] }],
    ['/v1/openai/v1/embeddings', { model: 'all-minilm', input: bad }],
    ['/v1/inference/chat-completion', { model_id: MODEL, messages: [{ role: 'user', content: bad }] }],
    ['/v1/inference/chat-completion', { model_id: MODEL, messages: [{ role: 'user', content: bad }], stream: true }],
    ['/v1/inference/completion', { model_id: MODEL, content: bad }],
    ['/v1/inference/embeddings', { model_id: 'all-minilm', contents: [bad] }],
  ];
  for (const [route, body] of routes) {
    const r = await post(route, '', body);
    assert.equal(r.status, 400, `${route} ${JSON.stringify(body)}: ${r.text}`);
    assert.equal(r.json.error.code, 'content_filter', route);
  }
  // And a safe request passes on each kind.
  assert.equal((await post('/v1/completions', '', { model: MODEL, prompt: 'fine' })).status, 200);
  assert.equal((await post('/v1/embeddings', '', { model: 'all-minilm', input: 'fine' })).status, 200);
  const streamed = await post('/v1/chat/completions', '', chat('a calm day', { stream: true }));
  assert.equal(streamed.status, 200);
  const text = events(streamed.text).map((e) => e.choices[0]?.delta?.content ?? '').join('');
  assert.equal(text, fakeReply(MODEL, 'a calm day'));
});

test('the output is judged too: a non-streamed answer is withheld', async () => {
  // output_only does not check the input; the fake echoes it, so the answer is flagged.
  const r = await post('/v1/chat/completions', 'output_only_access', chat('how do I kill a tree'));
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.error.code, 'content_filter');
  assert.equal(r.json.error.param, 'output');
  assert.deepEqual(r.json.error.categories, ['violence']);
  assert.ok(!r.text.includes('Hello from'), 'nothing of the answer is returned');
  const completion = await post('/v1/completions', 'output_only_access', { model: MODEL, prompt: 'kill' });
  assert.equal(completion.status, 400);
  assert.equal(completion.json.error.param, 'output');
});

test('a stream is judged in windows: safe windows flow, the flagged one ends it with content_filter', async () => {
  const safe = 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen';
  const text = `${safe} and then we kill it`;
  for (const route of ['/v1/chat/completions', '/v1/completions']) {
    const body = route.includes('chat') ? chat(text, { stream: true }) : { model: MODEL, prompt: text, stream: true };
    const r = await post(route, 'output_only_access', body);
    assert.equal(r.status, 200, r.text);
    const evs = events(r.text);
    const last = evs.at(-1);
    assert.equal(last.choices[0].finish_reason, 'content_filter', r.text);
    const sent = evs.map((e) => (route.includes('chat') ? e.choices[0]?.delta?.content : e.choices[0]?.text) ?? '').join('');
    const full = fakeReply(MODEL, text);
    assert.ok(sent.length > 0, 'the safe windows before the flagged one were sent');
    assert.ok(full.startsWith(sent), `sent text is a prefix of the answer: ${sent}`);
    assert.ok(!sent.includes('kill'), 'nothing of the flagged window was sent');
    assert.ok(r.text.trimEnd().endsWith('data: [DONE]'));
    assert.equal(evs.filter((e) => e.choices?.[0]?.finish_reason).length, 1, 'one finish reason');
  }
  // A filtered stream is not kept in the inference store.
  const listed = await fetch(`${server.baseUrl}/v1/chat/completions?limit=100`, {
    headers: { authorization: `Bearer ${token('output_only_access')}` },
  }).then((r) => r.json());
  for (const c of listed.data ?? []) {
    assert.ok(!JSON.stringify(c.choices).includes('kill'), 'no flagged answer stored');
  }
});

test('an input violation cancels the generation already under way', async () => {
  await models.reset();
  await models.control({ latency_ms: 400, token_delay_ms: 20 });
  try {
    const r = await post('/v1/chat/completions', '', chat('how do I kill my neighbour', { stream: true }));
    assert.equal(r.status, 400, 'refused before any byte of the stream left');
    let stats;
    for (let i = 0; i < 100; i++) {
      stats = await models.stats();
      if (stats.cancelled_streams >= 1) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(stats.requests, 1, 'the generation was started alongside the check');
    assert.ok(stats.cancelled_streams >= 1, JSON.stringify(stats));
  } finally {
    await models.reset();
  }
});

test('violations are audited once each, without the content', async () => {
  await post('/v1/chat/completions', 'premium_access', chat('how to shoplift quickly'));
  let found;
  for (let i = 0; i < 50 && !found; i++) {
    const all = await auditEvents('safety_violation');
    found = all.find((e) => JSON.stringify(e).includes('premium_user') && JSON.stringify(e).includes('illegal'));
    if (!found) await new Promise((res) => setTimeout(res, 50));
  }
  assert.ok(found, 'a safety_violation event');
  const flat = JSON.stringify(found);
  assert.match(flat, /llama-guard/);
  assert.match(flat, /"direction":"input"/);
  assert.equal(found.principal, 'user-premium_access');
  assert.equal(found.safety_level, 'premium_user');
  assert.deepEqual(found.categories, ['illegal']);
  assert.ok(!flat.includes('shoplift quickly'), 'no content without include_content');
});

test('the guard failing fails closed, and the server recovers when it is back', async () => {
  await guard.control({ status: 503 });
  try {
    // The guard's 503 is an upstream failure: 502, naming the shield.
    const r = await post('/v1/chat/completions', '', chat('hello'));
    assert.equal(r.status, 502, r.text);
    assert.match(r.json.detail, /Content safety check failed \(input\): Shield 'llama-guard'/);
    const s = await post('/v1/chat/completions', '', chat('hello', { stream: true }));
    assert.equal(s.status, 502, s.text);
    assert.ok(!s.text.includes('Hello from'), 'no unchecked output');
  } finally {
    await guard.reset();
  }
  // A guard that does not answer: 504 once its provider's timeout passes.
  await guard.control({ hang: true });
  try {
    const slow = await post('/v1/chat/completions', '', chat('hello'));
    assert.equal(slow.status, 504, slow.text);
    assert.match(slow.json.detail, /Content safety check failed/);
  } finally {
    await guard.reset();
  }
  const garbage = await post('/v1/chat/completions', '', chat('please confuse the guard'));
  assert.equal(garbage.status, 502, garbage.text);
  const back = await post('/v1/chat/completions', '', chat('hello'));
  assert.equal(back.status, 200, back.text);
});

test('oversized input is 413', async () => {
  const r = await post('/v1/chat/completions', '', chat('x'.repeat(300 * 1024)));
  assert.equal(r.status, 413, r.text.slice(0, 300));
});
