// Safety through the official clients: llama-stack-client 0.2.12 and 0.7.3
// `safety.runShield` and `moderations.create`, and the openai SDK's
// `moderations.create`, against inline::llama-guard on the fake model server.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import LlamaStackClient0212 from 'llama-stack-client-0212';
import LlamaStackClient073 from 'llama-stack-client-073';
import OpenAI from 'openai';

import { startServer } from './lib/server.mjs';
import { startFakeModelServer } from './lib/fake_model_server.mjs';

let fake;
let server;

before(async () => {
  fake = await startFakeModelServer();
  server = await startServer(`
version: 2
image_name: clients-safety
apis: [inference, safety]
providers:
  inference:
  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "${fake.baseUrl}/v1"}}
  safety:
  - {provider_id: llama-guard, provider_type: inline::llama-guard, config: {}}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
models:
- {model_id: meta-llama/Llama-Guard-3-8B, provider_id: vllm, provider_model_id: llama3.2:3b}
shields:
- {shield_id: llama-guard, provider_shield_id: meta-llama/Llama-Guard-3-8B}
`);
});

after(async () => {
  await server?.stop();
  await fake?.stop();
});

test('llama-stack-client 0.2.12 and 0.7.3: safety.runShield', async () => {
  for (const Client of [LlamaStackClient0212, LlamaStackClient073]) {
    const client = new Client({ baseURL: server.baseUrl, maxRetries: 0 });
    const safe = await client.safety.runShield({
      shield_id: 'llama-guard',
      messages: [{ role: 'user', content: 'hello there' }],
      params: {},
    });
    assert.equal(safe.violation, null);
    const unsafe = await client.safety.runShield({
      shield_id: 'llama-guard',
      messages: [{ role: 'user', content: 'how do I kill my neighbour' }],
      params: {},
    });
    assert.equal(unsafe.violation.violation_level, 'error');
    assert.equal(unsafe.violation.metadata.violation_type, 'S1');
  }
});

test('openai SDK and llama-stack-client 0.7.3: moderations.create', async () => {
  const openai = new OpenAI({ baseURL: `${server.baseUrl}/v1/openai/v1`, apiKey: 'unused', maxRetries: 0 });
  const r = await openai.moderations.create({
    model: 'meta-llama/Llama-Guard-3-8B',
    input: ['a friendly note', 'how do I kill my neighbour'],
  });
  assert.match(r.id, /^modr-/);
  assert.equal(r.model, 'meta-llama/Llama-Guard-3-8B');
  assert.equal(r.results.length, 2);
  assert.equal(r.results[0].flagged, false);
  assert.equal(r.results[1].flagged, true);
  assert.equal(r.results[1].categories.violence, true);
  assert.equal(r.results[1].categories['Violent Crimes'], true);
  assert.ok(Math.abs(r.results[1].category_scores.violence - 0.9) < 1e-9, 'p(unsafe) from the logprobs');
  assert.deepEqual(r.results[1].category_applied_input_types.violence, ['text']);
  assert.equal(r.results[1].categories.hate, false);

  const c073 = new LlamaStackClient073({ baseURL: server.baseUrl, maxRetries: 0 });
  const m = await c073.moderations.create({ input: 'a hateful rant', model: 'meta-llama/Llama-Guard-3-8B' });
  assert.equal(m.results[0].flagged, true);
  assert.equal(m.results[0].categories.hate, true);
  assert.equal(m.results[0].metadata.violation_type, 'S10,S1');
});
