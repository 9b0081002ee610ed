// The OpenAI Responses API and Conversations through the openai SDK and
// llama-stack-client 0.7.3: non-streamed and streamed responses (the event
// sequence the SDK's stream helpers accept), previous_response_id, function
// tools and their outputs, file_search over a vector store, input items,
// list/get/delete, conversations as context, guardrails, failures.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import LlamaStackClient073 from 'llama-stack-client-073';
import OpenAI, { toFile } from 'openai';

import { startFakeModelServer } from './lib/fake_model_server.mjs';
import { startServer, withServerLog } from './lib/server.mjs';

let fake;
let server;

before(async () => {
  fake = await startFakeModelServer();
  server = await startServer(`
version: 2
image_name: clients-responses
apis: [inference, safety, vector_io, files, agents]
providers:
  inference:
  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "${fake.baseUrl}/v1"}}
  safety:
  - {provider_id: llama-guard, provider_type: inline::llama-guard, config: {}}
  vector_io:
  - {provider_id: faiss, provider_type: inline::faiss, config: {kvstore: {type: sqlite, db_path: "{{TMP}}/faiss.db"}}}
  files:
  - {provider_id: localfs, provider_type: inline::localfs, config: {storage_dir: "{{TMP}}/files", metadata_store: {type: sqlite, db_path: "{{TMP}}/files.db"}}}
  agents:
  - {provider_id: meta-reference, provider_type: inline::meta-reference, config: {persistence_store: {type: sqlite, db_path: "{{TMP}}/agents.db"}}}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
models:
- {model_id: llama3.2:3b, provider_id: vllm}
- {model_id: meta-llama/Llama-Guard-3-8B, provider_id: vllm, provider_model_id: llama3.2:3b}
- {model_id: bow-embed, provider_id: vllm, model_type: embedding, metadata: {embedding_dimension: 64}}
shields:
- {shield_id: llama-guard, provider_shield_id: meta-llama/Llama-Guard-3-8B}
`);
});

after(async () => {
  await server?.stop();
  await fake?.stop();
});

const openai = () => new OpenAI({ baseURL: `${server.baseUrl}/v1/openai/v1`, apiKey: 'unused', maxRetries: 0 });
const MODEL = 'llama3.2:3b';
const weather = { type: 'function', name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { location: { type: 'string' } } } };

test('openai SDK: a response, previous_response_id, a function tool and its output', withServerLog(() => server, async () => {
  const c = openai();
  const first = await c.responses.create({ model: MODEL, input: 'hello there', instructions: 'Be brief.' });
  assert.match(first.id, /^resp_/);
  assert.equal(first.object, 'response');
  assert.equal(first.status, 'completed');
  assert.equal(first.output_text, 'Hello from llama3.2:3b! You said: hello there');
  assert.equal(first.output[0].type, 'message');
  assert.ok(first.usage.input_tokens > 0 && first.usage.output_tokens > 0);
  assert.equal(first.usage.total_tokens, first.usage.input_tokens + first.usage.output_tokens);

  const second = await c.responses.create({ model: MODEL, input: 'and again', previous_response_id: first.id });
  assert.equal(second.previous_response_id, first.id);
  const sent = (await fake.stats()).last_request.body.messages;
  // As OpenAI: instructions do not carry over with previous_response_id.
  assert.deepEqual(sent.map((m) => m.role), ['user', 'assistant', 'user']);
  assert.equal(sent[1].content, first.output_text);

  const call = await c.responses.create({ model: MODEL, input: 'call tool get_weather {"location": "Rome"}', tools: [weather] });
  const fc = call.output.find((o) => o.type === 'function_call');
  assert.equal(fc.name, 'get_weather');
  assert.equal(fc.arguments, '{"location":"Rome"}');
  const answered = await c.responses.create({
    model: MODEL,
    previous_response_id: call.id,
    input: [{ type: 'function_call_output', call_id: fc.call_id, output: 'sunny' }],
    tools: [weather],
  });
  assert.equal(answered.output_text, 'Hello from llama3.2:3b! The tool said: sunny');

  // get, list, input items, delete
  assert.equal((await c.responses.retrieve(first.id)).output_text, first.output_text);
  const items = await c.responses.inputItems.list(second.id);
  assert.deepEqual(items.data.map((i) => i.type), ['message']);
  assert.equal(items.data[0].content, 'and again');
  const listed = await fetch(`${server.baseUrl}/v1/responses?limit=2`).then((r) => r.json());
  assert.equal(listed.object, 'list');
  assert.deepEqual(listed.data.map((r) => r.id), [answered.id, call.id]);
  assert.equal(listed.has_more, true);
  const deleted = await c.responses.delete(first.id);
  assert.deepEqual(deleted, { id: first.id, object: 'response', deleted: true });
  await assert.rejects(c.responses.retrieve(first.id), (e) => e.status === 404);
  await assert.rejects(c.responses.create({ model: MODEL, input: 'x', previous_response_id: first.id }), (e) => e.status === 404);
}));

test('openai SDK: streamed responses follow the event sequence its helpers accumulate', withServerLog(() => server, async () => {
  const c = openai();
  const events = [];
  for await (const e of await c.responses.create({ model: MODEL, input: 'stream this please', stream: true })) events.push(e);
  assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));
  const types = events.map((e) => e.type);
  assert.equal(types[0], 'response.created');
  assert.equal(types[1], 'response.in_progress');
  assert.equal(types.at(-1), 'response.completed');
  assert.deepEqual([...new Set(types.slice(2, -1))], [
    'response.output_item.added', 'response.content_part.added', 'response.output_text.delta',
    'response.output_text.done', 'response.content_part.done', 'response.output_item.done',
  ]);
  const deltas = events.filter((e) => e.type === 'response.output_text.delta');
  assert.ok(deltas.length > 1);
  assert.equal(deltas.map((d) => d.delta).join(''), 'Hello from llama3.2:3b! You said: stream this please');
  assert.ok(deltas.every((d) => d.item_id === events[2].item.id));

  const stream = c.responses.stream({ model: MODEL, input: 'call tool get_weather', tools: [weather] });
  const final = await stream.finalResponse();
  assert.equal(final.status, 'completed');
  assert.equal(final.output[0].type, 'function_call');
  assert.equal(final.output[0].arguments, '{"location":"Paris"}');

  // A model failure: response.failed on the stream; a non-streamed one is the HTTP error.
  await fake.control({ status: 503 });
  try {
    const failed = [];
    for await (const e of await c.responses.create({ model: MODEL, input: 'x', stream: true })) failed.push(e);
    assert.equal(failed.at(-1).type, 'response.failed');
    assert.equal(failed.at(-1).response.status, 'failed');
    assert.match(failed.at(-1).response.error.message, /503|unavailable/i);
    await assert.rejects(c.responses.create({ model: MODEL, input: 'x' }), (e) => e.status >= 500);
  } finally {
    await fake.reset();
  }
}));

test('file_search over a vector store runs server-side; guardrails refuse unsafe input and output', withServerLog(() => server, async () => {
  const c = openai();
  const file = await c.files.create({ file: await toFile(Buffer.from('Orchids need bright indirect light.'), 'orchids.txt'), purpose: 'assistants' });
  const store = await c.vectorStores.create({ name: 'plants', file_ids: [file.id], embedding_model: 'bow-embed' });
  const r = await c.responses.create({
    model: MODEL,
    input: 'call tool file_search {"query": "orchids light"}',
    tools: [{ type: 'file_search', vector_store_ids: [store.id] }],
  });
  const search = r.output.find((o) => o.type === 'file_search_call');
  assert.equal(search.status, 'completed');
  assert.deepEqual(search.queries, ['orchids light']);
  assert.equal(search.results[0].file_id, file.id);
  assert.equal(search.results[0].filename, 'orchids.txt');
  assert.match(r.output_text, /^Hello from llama3\.2:3b! The tool said: file_search found 1 result\(s\): \[1\] orchids\.txt: Orchids need bright indirect light\./);
  const streamed = [];
  for await (const e of await c.responses.create({
    model: MODEL, stream: true, input: 'call tool file_search {"query": "orchids"}',
    tools: [{ type: 'file_search', vector_store_ids: [store.id] }],
  })) streamed.push(e.type);
  for (const t of ['response.file_search_call.in_progress', 'response.file_search_call.searching', 'response.file_search_call.completed']) {
    assert.ok(streamed.includes(t), t);
  }
  const bad = await fetch(`${server.baseUrl}/v1/responses`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, input: 'x', tools: [{ type: 'computer_use' }] }),
  });
  assert.equal(bad.status, 400);

  const refused = await c.responses.create({ model: MODEL, input: 'how do I kill a process', guardrails: ['llama-guard'] });
  assert.equal(refused.output[0].content[0].type, 'refusal');
  const allowed = await c.responses.create({ model: MODEL, input: 'hello', guardrails: ['llama-guard'] });
  assert.equal(allowed.output_text, 'Hello from llama3.2:3b! You said: hello');
  // The output is checked too: a safe input whose answer is not (a tool's result echoed).
  const call = await c.responses.create({ model: MODEL, input: 'call tool get_weather', tools: [weather] });
  const fc = call.output.find((o) => o.type === 'function_call');
  const followUp = (stream, output = 'they kill the process') => c.responses.create({
    model: MODEL, previous_response_id: call.id, tools: [weather], guardrails: ['llama-guard'], stream,
    input: [{ type: 'function_call_output', call_id: fc.call_id, output }],
  });
  const blocked = await followUp(false);
  assert.equal(blocked.output[0].content[0].type, 'refusal');
  assert.doesNotMatch(JSON.stringify(blocked.output), /kill the process/);
  const events = [];
  for await (const e of await followUp(true)) events.push(e);
  assert.ok(!events.some((e) => e.type === 'response.output_text.delta'), 'nothing unsafe is streamed');
  assert.ok(events.some((e) => e.type === 'response.refusal.done'));
  assert.equal(events.at(-1).response.output[0].content[0].type, 'refusal');
  // Streamed in windows: what passed is sent as it passes, the window that fails is refused.
  const windowed = [];
  for await (const e of await followUp(true, `${'calm words '.repeat(30)}and then they kill the process`)) windowed.push(e);
  const sent = windowed.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join('');
  assert.ok(sent.length >= 200 && sent.includes('calm words'), sent);
  assert.ok(!sent.includes('kill'), sent);
  const finalOutput = windowed.at(-1).response.output;
  assert.deepEqual(finalOutput.map((o) => o.content[0].type), ['output_text', 'refusal']);
}));

test('llama-stack-client 0.7.3: conversations carry the context of responses', withServerLog(() => server, async () => {
  const c = new LlamaStackClient073({ baseURL: server.baseUrl, maxRetries: 0 });
  const conv = await c.conversations.create({ items: [{ type: 'message', role: 'user', content: 'my name is Ada' }], metadata: { topic: 'names' } });
  assert.match(conv.id, /^conv_/);
  assert.equal(conv.object, 'conversation');
  assert.deepEqual(conv.metadata, { topic: 'names' });
  const r = await c.responses.create({ model: MODEL, input: 'what is my name', conversation: conv.id });
  assert.equal(r.status, 'completed');
  const sent = (await fake.stats()).last_request.body.messages;
  assert.deepEqual(sent.map((m) => m.content), ['my name is Ada', 'what is my name']);
  const items = await c.conversations.items.list(conv.id, { order: 'asc' });
  assert.deepEqual(items.data.map((i) => i.type), ['message', 'message', 'message']);
  assert.equal(items.data[2].role, 'assistant');
  const one = await c.conversations.items.get(conv.id, items.data[0].id);
  assert.equal(one.content, 'my name is Ada');
  await c.conversations.items.delete(conv.id, items.data[0].id);
  assert.equal((await c.conversations.items.list(conv.id)).data.length, 2);
  const updated = await c.conversations.update(conv.id, { metadata: { topic: 'renamed' } });
  assert.deepEqual(updated.metadata, { topic: 'renamed' });
  const gone = await c.conversations.delete(conv.id);
  assert.equal(gone.deleted, true);
  await assert.rejects(c.conversations.retrieve(conv.id), (e) => e.status === 404);
  await assert.rejects(c.responses.create({ model: MODEL, input: 'x', conversation: conv.id }), (e) => e.status === 404);
  const listed = await c.responses.list({ limit: 5 });
  assert.ok(listed.data.some((x) => x.id === r.id));
}));
