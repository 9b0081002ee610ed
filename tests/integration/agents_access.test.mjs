// Agents, sessions, responses and conversations under authentication and
// Llama Stack's default access policy: what one team creates does not exist
// for another (404 on every route that reaches it, listings leave it out).
// And a client that hangs up mid-turn: the turn's model call is cancelled
// and the turn is stored as incomplete, not lost.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';

import { startFakeModelServer } from '../clients/lib/fake_model_server.mjs';
import { ISSUER, startIdentityServer } from '../clients/lib/identity_server.mjs';
import { startServer } from '../clients/lib/server.mjs';

let idp;
let fake;
let server;

before(async () => {
  idp = await startIdentityServer();
  fake = await startFakeModelServer();
  server = await startServer(`
version: 2
image_name: agents-access-test
apis: [inference, agents]
providers:
  inference:
  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "${fake.baseUrl}/v1"}}
  agents:
  - {provider_id: meta-reference, provider_type: inline::meta-reference, config: {persistence_store: {type: sqlite, db_path: "{{TMP}}/agents.db"}}}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
models:
- {model_id: llama3.2:3b, provider_id: vllm}
server:
  auth:
    provider_type: oauth2_token
    config:
      jwks: {uri: "${idp.jwksUrl}"}
      issuer: ${ISSUER}
      claims_mapping: {groups: teams}
`);
});

after(async () => {
  await server?.stop();
  await fake?.stop();
  await idp?.stop();
});

const alice = () => idp.sign({ sub: 'alice', groups: ['red'] });
const bob = () => idp.sign({ sub: 'bob', groups: ['blue'] });

async function call(method, path, token, body) {
  const res = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null, text };
}

test("another team's agents, sessions, responses and conversations do not exist for it", async () => {
  const agent = (await call('POST', '/v1/agents', alice(), { agent_config: { model: 'llama3.2:3b', instructions: 'x' } })).json.agent_id;
  const session = (await call('POST', `/v1/agents/${agent}/session`, alice(), { session_name: 's' })).json.session_id;
  const turn = await call('POST', `/v1/agents/${agent}/session/${session}/turn`, alice(), { messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(turn.status, 200, turn.text);
  const response = await call('POST', '/v1/responses', alice(), { model: 'llama3.2:3b', input: 'hi' });
  assert.equal(response.status, 200, response.text);
  const conversation = await call('POST', '/v1/conversations', alice(), { items: [{ type: 'message', role: 'user', content: 'secret' }] });
  assert.equal(conversation.status, 200, conversation.text);
  const t = turn.json.turn_id;
  const r = response.json.id;
  const c = conversation.json.id;

  assert.deepEqual((await call('GET', '/v1/agents', bob())).json.data, []);
  assert.deepEqual((await call('GET', '/v1/responses', bob())).json.data, []);
  for (const [method, path, body] of [
    ['GET', `/v1/agents/${agent}`],
    ['DELETE', `/v1/agents/${agent}`],
    ['POST', `/v1/agents/${agent}/session`, { session_name: 'mine' }],
    ['GET', `/v1/agents/${agent}/sessions`],
    ['GET', `/v1/agents/${agent}/session/${session}`],
    ['POST', `/v1/agents/${agent}/session/${session}/turn`, { messages: [{ role: 'user', content: 'x' }] }],
    ['GET', `/v1/agents/${agent}/session/${session}/turn/${t}`],
    ['GET', `/v1/responses/${r}`],
    ['GET', `/v1/responses/${r}/input_items`],
    ['DELETE', `/v1/responses/${r}`],
    ['POST', '/v1/responses', { model: 'llama3.2:3b', input: 'x', previous_response_id: r }],
    ['GET', `/v1/conversations/${c}`],
    ['GET', `/v1/conversations/${c}/items`],
    ['POST', '/v1/responses', { model: 'llama3.2:3b', input: 'x', conversation: c }],
  ]) {
    const res = await call(method, path, bob(), body);
    assert.equal(res.status, 404, `${method} ${path}: ${res.text}`);
  }
  // Still there for alice.
  assert.equal((await call('GET', `/v1/agents/${agent}/session/${session}`, alice())).json.turns.length, 1);
  assert.equal((await call('GET', `/v1/responses/${r}`, alice())).status, 200);
});

test('a client that hangs up mid-turn cancels the model call; the turn is stored as incomplete', async () => {
  const agent = (await call('POST', '/v1/agents', alice(), { agent_config: { model: 'llama3.2:3b', instructions: 'x' } })).json.agent_id;
  const session = (await call('POST', `/v1/agents/${agent}/session`, alice(), { session_name: 's' })).json.session_id;
  await fake.control({ hang: true });
  try {
    await new Promise((resolve) => {
      const body = JSON.stringify({ messages: [{ role: 'user', content: 'slow' }], stream: true });
      const req = http.request(`${server.baseUrl}/v1/agents/${agent}/session/${session}/turn`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${alice()}`, 'content-length': Buffer.byteLength(body) },
      }, (res) => {
        res.once('data', () => {  // turn_start arrived: the turn is running
          setTimeout(() => { req.destroy(); resolve(); }, 200);
        });
      });
      req.on('error', () => {});
      req.end(body);
    });
    let stored;
    for (let i = 0; i < 50; i++) {
      stored = (await call('GET', `/v1/agents/${agent}/session/${session}`, alice())).json;
      if (stored.turns.length === 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(stored.turns.length, 1, JSON.stringify(stored) + server.output().slice(-3000));
    assert.equal(stored.turns[0].output_message, null);
    assert.equal(stored.turns[0].completed_at, null);
    const stats = await fake.stats();
    assert.ok(stats.cancelled_streams >= 1 || stats.requests >= 1, JSON.stringify(stats));
  } finally {
    await fake.reset();
  }
  assert.equal((await call('GET', '/v1/health', alice())).status, 200);
});
