// Telemetry (inline::meta-reference) in the configuration guide's own example
// (tests/data/guide/guide-ollama.yaml) against a fake Ollama: a request's
// root span recorded in SQLite and read back through llama-stack-client
// 0.2.12's telemetry methods; malformed queries are 400s naming the field.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import LlamaStackClient0212 from 'llama-stack-client-0212';

import { startFakeModelServer } from './lib/fake_model_server.mjs';
import { startIdentityServer } from './lib/identity_server.mjs';
import { startServer } from './lib/server.mjs';

const guide = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'data', 'guide', 'guide-ollama.yaml');

test('guide-ollama.yaml (with a fake Ollama) starts and records traces read back by llama-stack-client 0.2.12', async () => {
  const fake = await startFakeModelServer();
  const idp = await startIdentityServer();  // the guide's JWKS URL becomes ours
  const token = idp.sign({ sub: 'alice' });
  const state = await mkdtemp(path.join(os.tmpdir(), 'guide-ollama-'));
  const env = { INFERENCE_MODEL: 'llama3.2:3b', OLLAMA_URL: fake.baseUrl, SQLITE_STORE_DIR: state };
  const yaml = (await readFile(guide, 'utf8')).replace('https://my-token-issuing-svc.com/jwks', idp.jwksUrl);
  const server = await startServer(yaml, { env });
  try {
    const client = new LlamaStackClient0212({ baseURL: server.baseUrl, apiKey: token, maxRetries: 0 });
    const chat = await fetch(`${server.baseUrl}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'hello' }] }),
    });
    assert.equal(chat.status, 200, await chat.text());
    const traceId = chat.headers.get('x-trace-id');
    assert.match(traceId, /^[0-9a-f]{32}$/);
    let traces = [];
    for (let i = 0; i < 20 && !traces.some((t) => t.trace_id === traceId); i++) {
      traces = await client.telemetry.queryTraces({ attribute_filters: [{ key: 'http.route', op: 'eq', value: '/v1/chat/completions' }], limit: 10 });
      if (!traces.some((t) => t.trace_id === traceId)) await new Promise((r) => setTimeout(r, 100));
    }
    const trace = traces.find((t) => t.trace_id === traceId);
    assert.ok(trace, JSON.stringify(traces));
    const root = await client.telemetry.getSpan(traceId, trace.root_span_id);
    assert.equal(root.name, '/v1/chat/completions');
    assert.equal(root.attributes['http.status_code'], 200);
    assert.equal(root.attributes['http.method'], 'POST');
    assert.equal(root.parent_span_id, null);
    assert.equal(root.attributes.principal, 'alice');
    assert.ok(root.end_time >= root.start_time);
    assert.equal((await client.telemetry.getTrace(traceId)).root_span_id, trace.root_span_id);
    const tree = await client.telemetry.getSpanTree(trace.root_span_id, { attributes_to_return: ['http.route'] });
    assert.deepEqual(tree[trace.root_span_id].attributes, { 'http.route': '/v1/chat/completions' });
    // The model call is a child span, and its trace context went upstream.
    const full = await client.telemetry.getSpanTree(trace.root_span_id, {});
    const model = Object.values(full).find((s) => s.name === 'inference.chat_completion');
    assert.ok(model, JSON.stringify(full));
    assert.equal(model.parent_span_id, trace.root_span_id);
    assert.equal(model.attributes.model, 'llama3.2:3b');
    assert.equal(model.attributes.provider_id, 'ollama');
    assert.ok(model.attributes.prompt_tokens > 0 && model.attributes.completion_tokens > 0);
    const upstream = (await fake.stats()).last_request.headers.traceparent;
    assert.equal(upstream, `00-${traceId}-${model.span_id}-01`);
    // A client's traceparent continues: same trace id here and upstream.
    const theirs = '4bf92f3577b34da6a3ce929d0e0e4736';
    const continued = await fetch(`${server.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, traceparent: `00-${theirs}-00f067aa0ba902b7-01` },
      body: JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'traced' }] }),
    });
    assert.equal(continued.headers.get('x-trace-id'), theirs);
    assert.match((await fake.stats()).last_request.headers.traceparent, new RegExp(`^00-${theirs}-[0-9a-f]{16}-01$`));
    // A streamed call's span has its time to first token.
    const streamedRes = await fetch(`${server.baseUrl}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ model: 'llama3.2:3b', stream: true, messages: [{ role: 'user', content: 'stream it' }] }),
    });
    await streamedRes.text();
    const streamedTrace = streamedRes.headers.get('x-trace-id');
    let streamedSpan;
    for (let i = 0; i < 20 && !streamedSpan; i++) {
      const t = await fetch(`${server.baseUrl}/v1/telemetry/traces/${streamedTrace}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.json());
      if (t.root_span_id) {
        const tree = await client.telemetry.getSpanTree(t.root_span_id, {});
        streamedSpan = Object.values(tree).find((s) => s.name === 'inference.chat_completion');
      }
      if (!streamedSpan) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(streamedSpan.attributes.streamed, true);
    assert.ok(streamedSpan.attributes.time_to_first_token_ms >= 0, JSON.stringify(streamedSpan.attributes));
    const spans = await client.telemetry.querySpans({ attribute_filters: [{ key: 'http.route', op: 'eq', value: '/v1/chat/completions' }], attributes_to_return: ['http.status_code'] });
    assert.ok(spans.some((s) => s.span_id === trace.root_span_id));
    const bad = await fetch(`${server.baseUrl}/v1/telemetry/traces`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ attribute_filters: [{ key: 'x', op: 'like', value: 1 }] }),
    });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).detail, /attribute_filters\[0\]\.op/);
  } finally {
    await server.stop();
    await fake.stop();
    await idp.stop();
    await rm(state, { recursive: true, force: true });
  }
});

test('a caller reads only their own traces and token metrics; metrics queries; traces beyond max_traces are removed', async () => {
  const fake = await startFakeModelServer();
  const idp = await startIdentityServer();
  const alice = idp.sign({ sub: 'alice' });
  const bob = idp.sign({ sub: 'bob' });
  const state = await mkdtemp(path.join(os.tmpdir(), 'guide-access-'));
  const env = { INFERENCE_MODEL: 'llama3.2:3b', OLLAMA_URL: fake.baseUrl, SQLITE_STORE_DIR: state };
  const guideYaml = (await readFile(guide, 'utf8')).replace('https://my-token-issuing-svc.com/jwks', idp.jwksUrl);
  const withTelemetry = (config) => guideYaml.replace(
    /  telemetry:\n  - provider_id: meta-reference\n    provider_type: inline::meta-reference\n    config: \{\}\n/,
    `  telemetry:\n  - provider_id: meta-reference\n    provider_type: inline::meta-reference\n    config: ${config}\n`);
  const post = (server, token, route, body) => fetch(`${server.baseUrl}${route}`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body),
  });
  const started = Math.floor(Date.now() / 1000) - 1;
  let server = await startServer(withTelemetry(`{sqlite_db_path: ${state}/traces.db, max_traces: 3}`), { env });
  try {
    const chats = {};
    let alicePrompt = 0;
    for (const [who, token, text] of [['alice', alice, 'one'], ['bob', bob, 'two words'], ['alice', alice, 'three more words']]) {
      const res = await post(server, token, '/v1/chat/completions', { model: 'llama3.2:3b', messages: [{ role: 'user', content: text }] });
      assert.equal(res.status, 200);
      const body = await res.json();
      if (who === 'alice') alicePrompt += body.usage.prompt_tokens;
      (chats[who] ??= []).push(res.headers.get('x-trace-id'));
    }
    const clientOf = (token) => new LlamaStackClient0212({ baseURL: server.baseUrl, apiKey: token, maxRetries: 0 });
    const route = [{ key: 'http.route', op: 'eq', value: '/v1/chat/completions' }];
    const aliceTraces = (await clientOf(alice).telemetry.queryTraces({ attribute_filters: route })).map((t) => t.trace_id);
    assert.deepEqual(new Set(aliceTraces), new Set(chats.alice));
    const bobTraces = (await clientOf(bob).telemetry.queryTraces({ attribute_filters: route })).map((t) => t.trace_id);
    assert.deepEqual(bobTraces, chats.bob);
    // Someone else's trace does not exist for bob.
    const theirs = await fetch(`${server.baseUrl}/v1/telemetry/traces/${chats.alice[0]}`, { headers: { authorization: `Bearer ${bob}` } });
    assert.equal(theirs.status, 404);
    const mine = await fetch(`${server.baseUrl}/v1/telemetry/traces/${chats.alice[0]}`, { headers: { authorization: `Bearer ${alice}` } });
    assert.equal(mine.status, 200);
    const rootId = (await mine.json()).root_span_id;
    assert.equal((await post(server, bob, `/v1/telemetry/spans/${rootId}/tree`, {})).status, 404);

    // Token metrics: alice's instant sum is her own prompt tokens.
    const instant = await post(server, alice, '/v1/telemetry/metrics/prompt_tokens', {
      start_time: started, query_type: 'instant', label_matchers: [{ name: 'model_id', operator: '=', value: 'llama3.2:3b' }],
    });
    assert.equal(instant.status, 200);
    const { data } = await instant.json();
    assert.equal(data.length, 1);
    assert.equal(data[0].metric, 'prompt_tokens');
    assert.deepEqual(data[0].labels.find((l) => l.name === 'provider_id'), { name: 'provider_id', value: 'ollama' });
    assert.equal(data[0].values.length, 1);
    assert.equal(data[0].values[0].value, alicePrompt);
    assert.equal(data[0].values[0].unit, 'tokens');
    const range = await (await post(server, alice, '/v1/telemetry/metrics/total_tokens', { start_time: started, query_type: 'range', granularity: '1h' })).json();
    assert.equal(range.data[0].values.length, 1);
    assert.ok(range.data[0].values[0].value > alicePrompt);
    const none = await (await post(server, alice, '/v1/telemetry/metrics/prompt_tokens', { start_time: started, label_matchers: [{ name: 'model_id', operator: '!~', value: 'llama.*' }] })).json();
    assert.deepEqual(none.data, []);
    for (const [body, field] of [
      [{ query_type: 'range' }, 'start_time'],
      [{ start_time: started, granularity: 'soon' }, 'granularity'],
      [{ start_time: started, query_type: 'sometimes' }, 'query_type'],
      [{ start_time: started, label_matchers: [{ name: 'model_id', operator: '~~', value: 'x' }] }, 'label_matchers'],
    ]) {
      const bad = await post(server, alice, '/v1/telemetry/metrics/prompt_tokens', body);
      assert.equal(bad.status, 400, JSON.stringify(body));
      assert.match((await bad.json()).detail, new RegExp(field));
    }
    // More traces than max_traces: after a restart (retention runs at
    // startup and every minute) only the newest 3 remain.
    for (let i = 0; i < 3; i++) await fetch(`${server.baseUrl}/v1/models`, { headers: { authorization: `Bearer ${alice}` } });
    await server.stop();
    const restarted = new Date().toISOString();
    server = await startServer(withTelemetry(`{sqlite_db_path: ${state}/traces.db, max_traces: 3}`), { env });
    const kept = await clientOf(alice).telemetry.queryTraces({ limit: 100 });
    // (The new server's own requests since then are traces too.)
    assert.equal(kept.filter((t) => t.start_time < restarted).length, 3, JSON.stringify(kept));
    assert.ok(!kept.some((t) => chats.alice.includes(t.trace_id)), 'the oldest traces are gone');
  } finally {
    await server.stop();
    await fake.stop();
    await idp.stop();
    await rm(state, { recursive: true, force: true });
  }
});
