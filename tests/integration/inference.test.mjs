// Inference through the real binary against the fake model server (OpenAI and
// Ollama wire protocols): every route, streaming, tool calls, embeddings,
// faults, cancellation, the inference store.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';

import { startServer, freePort } from '../clients/lib/server.mjs';
import { startFakeModelServer } from '../clients/lib/fake_model_server.mjs';
import { expectLeavingCancelsUpstream, expectPipelinedRequestAnswered, rawChatRequest } from '../clients/lib/in_flight.mjs';

let fake;
let server;
let deadPort;

const EXPECTED = (model, said) => `Hello from ${model}! You said: ${said}`;

function config(fakeUrl, { store = true, timeout = 600 } = {}) {
  return `
version: 2
image_name: inference-test
apis: [inference]
providers:
  inference:
  - provider_id: ollama
    provider_type: remote::ollama
    config: {url: "${fakeUrl}", timeout_seconds: ${timeout}}
  - provider_id: vllm
    provider_type: remote::vllm
    config: {url: "${fakeUrl}/v1", api_token: vllm-secret-token, max_tokens: 512, timeout_seconds: ${timeout}}
  - provider_id: openai
    provider_type: remote::openai
    config: {base_url: "${fakeUrl}/v1", api_key: configured-key, timeout_seconds: ${timeout}}
  - provider_id: down
    provider_type: remote::ollama
    config: {url: "http://127.0.0.1:${deadPort}"}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
${store ? 'inference_store: {type: sqlite, db_path: "{{TMP}}/inference_store.db"}' : ''}
models:
- {model_id: llama3.2:3b, provider_id: ollama}
- {model_id: vllm-llama, provider_id: vllm, provider_model_id: meta-llama/Llama-3.1-8B-Instruct}
- {model_id: gpt, provider_id: openai, provider_model_id: llama3.2:3b}
- {model_id: ghost, provider_id: down, provider_model_id: llama3.2:3b}
- {model_id: all-minilm, provider_id: ollama, model_type: embedding, metadata: {embedding_dimension: 8}}
- {model_id: vllm-embed, provider_id: vllm, provider_model_id: all-minilm, model_type: embedding, metadata: {embedding_dimension: 8}}
`;
}

before(async () => {
  deadPort = await freePort();
  fake = await startFakeModelServer();
  server = await startServer(config(fake.baseUrl));
});

after(async () => {
  await server?.stop();
  await fake?.stop();
});

beforeEach(async () => {
  await fake.reset();
});

async function post(path, body, headers = {}) {
  const res = await fetch(`${server.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // streams and errors are checked by the caller
  }
  return { status: res.status, headers: res.headers, text, json };
}

function sseData(text) {
  return text
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: '))
    .map((frame) => frame.slice(6));
}

const chat = (model, extra = {}) => ({ model, messages: [{ role: 'user', content: 'hi there' }], ...extra });

for (const [model, upstream] of [
  ['llama3.2:3b', 'llama3.2:3b'],
  ['vllm-llama', 'meta-llama/Llama-3.1-8B-Instruct'],
  ['gpt', 'llama3.2:3b'],
]) {
  test(`OpenAI chat completion via ${model} (non-stream)`, async () => {
    const r = await post('/v1/openai/v1/chat/completions', chat(model));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.object, 'chat.completion');
    assert.equal(r.json.model, model);
    assert.equal(r.json.choices[0].message.role, 'assistant');
    assert.equal(r.json.choices[0].message.content, EXPECTED(upstream, 'hi there'));
    assert.equal(r.json.choices[0].finish_reason, 'stop');
    assert.deepEqual(r.json.usage, { prompt_tokens: 2, completion_tokens: 7, total_tokens: 9 });
    const stats = await fake.stats();
    assert.equal(stats.last_request.body.model, upstream);
  });

  test(`OpenAI chat completion via ${model} (stream, at /v1/chat/completions)`, async () => {
    const r = await post('/v1/chat/completions', chat(model, { stream: true, stream_options: { include_usage: true } }));
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type'), /^text\/event-stream/);
    const frames = sseData(r.text);
    assert.equal(frames.at(-1), '[DONE]');
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f));
    const content = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    assert.equal(content, EXPECTED(upstream, 'hi there'));
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === model));
    assert.ok(chunks.some((c) => c.choices[0]?.finish_reason === 'stop'));
    const usage = chunks.at(-1);
    assert.deepEqual(usage.choices, []);
    assert.equal(usage.usage.completion_tokens, 7);
  });
}

test('usage chunks are only forwarded when the client asked for them', async () => {
  const r = await post('/v1/chat/completions', chat('llama3.2:3b', { stream: true }));
  const chunks = sseData(r.text).slice(0, -1).map((f) => JSON.parse(f));
  assert.ok(chunks.length > 2);
  assert.ok(chunks.every((c) => c.choices.length > 0 && c.usage === undefined));
  const stats = await fake.stats();
  assert.equal(stats.last_request.body.stream, true);
});

test('the configured API key is sent upstream and X-LlamaStack-Provider-Data overrides it', async () => {
  await post('/v1/chat/completions', chat('vllm-llama'));
  assert.equal((await fake.stats()).last_request.headers.authorization, 'Bearer vllm-secret-token');
  await post('/v1/chat/completions', chat('gpt'));
  assert.equal((await fake.stats()).last_request.headers.authorization, 'Bearer configured-key');
  await post('/v1/chat/completions', chat('gpt'), {
    'x-llamastack-provider-data': JSON.stringify({ openai_api_key: 'per-request-key' }),
  });
  assert.equal((await fake.stats()).last_request.headers.authorization, 'Bearer per-request-key');
  const bad = await post('/v1/chat/completions', chat('gpt'), { 'x-llamastack-provider-data': 'not json' });
  assert.equal(bad.status, 400);
});

test('vLLM gets the configured max_tokens default, Ollama gets options', async () => {
  await post('/v1/chat/completions', chat('vllm-llama'));
  assert.equal((await fake.stats()).last_request.body.max_tokens, 512);
  await post('/v1/chat/completions', chat('llama3.2:3b', { temperature: 0.2, max_tokens: 3, stop: ['x'] }));
  const body = (await fake.stats()).last_request.body;
  assert.deepEqual(body.options, { temperature: 0.2, num_predict: 3, stop: ['x'] });
});

test('max_tokens truncation reports length', async () => {
  for (const model of ['llama3.2:3b', 'vllm-llama']) {
    const r = await post('/v1/chat/completions', chat(model, { max_tokens: 2 }));
    assert.equal(r.json.choices[0].finish_reason, 'length', model);
    assert.equal(r.json.usage.completion_tokens, 2, model);
  }
});

const TOOLS = [
  {
    type: 'function',
    function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { location: { type: 'string' } } } },
  },
];

for (const model of ['llama3.2:3b', 'vllm-llama']) {
  test(`OpenAI tool calls via ${model}, stream and not`, async () => {
    const messages = [{ role: 'user', content: 'please call tool now' }];
    const r = await post('/v1/chat/completions', { model, messages, tools: TOOLS });
    assert.equal(r.status, 200, r.text);
    const call = r.json.choices[0].message.tool_calls[0];
    assert.equal(r.json.choices[0].finish_reason, 'tool_calls');
    assert.equal(call.type, 'function');
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), { location: 'Paris' });
    assert.ok(call.id);

    const s = await post('/v1/chat/completions', { model, messages, tools: TOOLS, stream: true });
    const chunks = sseData(s.text).slice(0, -1).map((f) => JSON.parse(f));
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
    assert.equal(deltas[0].function.name, 'get_weather');
    assert.equal(deltas[0].index, 0);
    assert.ok(deltas[0].id);
    assert.deepEqual(JSON.parse(deltas.map((d) => d.function?.arguments ?? '').join('')), { location: 'Paris' });
    assert.ok(chunks.some((c) => c.choices[0]?.finish_reason === 'tool_calls'));
  });
}

test('native chat-completion, non-stream', async () => {
  const r = await post('/v1/inference/chat-completion', {
    model_id: 'llama3.2:3b',
    messages: [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: [{ type: 'text', text: 'hi there' }] },
    ],
    sampling_params: { strategy: { type: 'top_p', temperature: 0.5, top_p: 0.9 }, max_tokens: 100 },
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.completion_message.role, 'assistant');
  assert.equal(r.json.completion_message.content, EXPECTED('llama3.2:3b', 'hi there'));
  assert.equal(r.json.completion_message.stop_reason, 'end_of_turn');
  assert.deepEqual(r.json.completion_message.tool_calls, []);
  assert.deepEqual(
    r.json.metrics.map((m) => [m.metric, m.value]),
    [['prompt_tokens', 4], ['completion_tokens', 7], ['total_tokens', 11]],
  );
  const upstream = (await fake.stats()).last_request.body;
  assert.deepEqual(upstream.options, { temperature: 0.5, top_p: 0.9, num_predict: 100 });
});

test('native chat-completion, stream: start → progress → complete with metrics', async () => {
  for (const model of ['llama3.2:3b', 'vllm-llama']) {
    const r = await post('/v1/inference/chat-completion', {
      model_id: model,
      messages: [{ role: 'user', content: 'hi there' }],
      stream: true,
    });
    assert.equal(r.status, 200, r.text);
    const frames = sseData(r.text);
    assert.ok(!frames.includes('[DONE]'), 'native streams carry no [DONE]');
    const events = frames.map((f) => JSON.parse(f).event);
    assert.equal(events[0].event_type, 'start');
    assert.equal(events.at(-1).event_type, 'complete');
    assert.equal(events.at(-1).stop_reason, 'end_of_turn');
    const last = JSON.parse(frames.at(-1));
    assert.equal(last.metrics.find((m) => m.metric === 'completion_tokens').value, 7);
    const text = events.filter((e) => e.event_type === 'progress').map((e) => e.delta.text).join('');
    assert.ok(text.startsWith('Hello from'), text);
  }
});

test('native chat-completion with tools returns parsed tool calls', async () => {
  const body = {
    model_id: 'llama3.2:3b',
    messages: [{ role: 'user', content: 'call tool please' }],
    tools: [{ tool_name: 'get_weather', description: 'Weather', parameters: { location: { param_type: 'str', required: true } } }],
    tool_config: { tool_choice: 'auto' },
  };
  const r = await post('/v1/inference/chat-completion', body);
  assert.equal(r.status, 200, r.text);
  const call = r.json.completion_message.tool_calls[0];
  assert.equal(call.tool_name, 'get_weather');
  assert.deepEqual(call.arguments, { location: 'Paris' });
  assert.equal(r.json.completion_message.stop_reason, 'end_of_message');
  const upstream = (await fake.stats()).last_request.body;
  assert.equal(upstream.tools[0].function.name, 'get_weather');
  assert.deepEqual(upstream.tools[0].function.parameters.required, ['location']);

  const s = await post('/v1/inference/chat-completion', { ...body, stream: true });
  const events = sseData(s.text).map((f) => JSON.parse(f).event);
  const toolEvent = events.find((e) => e.delta.type === 'tool_call');
  assert.equal(toolEvent.delta.parse_status, 'succeeded');
  assert.equal(toolEvent.delta.tool_call.tool_name, 'get_weather');
});

test('native request validation names the field', async () => {
  let r = await post('/v1/inference/chat-completion', { model_id: 'llama3.2:3b', messages: [{ content: 'x' }] });
  assert.equal(r.status, 400);
  assert.match(r.json.detail, /messages\[0\]\.role/);
  r = await post('/v1/inference/chat-completion', {
    model_id: 'llama3.2:3b',
    messages: [{ role: 'user', content: 'x' }],
    sampling_params: { strategy: { type: 'top_p' } },
  });
  assert.equal(r.status, 400);
  assert.match(r.json.detail, /temperature/);
  r = await post('/v1/inference/chat-completion', { model_id: 'llama3.2:3b', messages: [] });
  assert.equal(r.status, 400);
  r = await post('/v1/chat/completions', { model: 'llama3.2:3b', messages: [{ role: 'user', content: 'x' }], temperature: 'hot' });
  assert.equal(r.status, 400);
  assert.match(r.json.detail, /temperature/);
});

test('a malformed field for an Ollama model is a 400 naming it, never sent upstream; the server goes on', async () => {
  const history = (toolCall) => [
    { role: 'user', content: 'call tool please' },
    { role: 'assistant', content: null, tool_calls: [toolCall] },
    { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
  ];
  const cases = [
    // Issue 9: a tool call without "function" was a 500 (an uncaught out_of_range).
    [chat('llama3.2:3b', { messages: history({ id: 'call_1', type: 'function' }) }), "Field 'messages[1].tool_calls[0].function' is required"],
    [chat('llama3.2:3b', { messages: history({ id: 'call_1', type: 'function' }), stream: true }), "Field 'messages[1].tool_calls[0].function' is required"],
    [chat('llama3.2:3b', { messages: history({ id: 'call_1', function: { arguments: '{}' } }) }), "Field 'messages[1].tool_calls[0].function.name' is required"],
    [chat('llama3.2:3b', { messages: history({ id: 'call_1', function: { name: 'f', arguments: '{oops' } }) }), "messages[1].tool_calls[0].function.arguments"],
    [chat('llama3.2:3b', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }] }), "Field 'messages[0].content[0].image_url.url' is required"],
    [chat('llama3.2:3b', { stop: ['x', 1] }), "Field 'stop[1]' must be a string"],
    [chat('llama3.2:3b', { tools: [{ type: 'function' }] }), "Field 'tools[0].function' is required"],
  ];
  for (const [body, message] of cases) {
    const r = await post('/v1/chat/completions', body);
    assert.equal(r.status, 400, r.text);
    assert.ok(r.json.detail.includes(message), `${r.json.detail} does not include ${message}`);
    assert.ok(r.json.error.message.includes(message), r.text);
  }
  assert.equal((await fake.stats()).requests, 0, 'malformed requests never reach the model server');

  // The native route's conversion names its fields too.
  const native = await post('/v1/inference/chat-completion', {
    model_id: 'llama3.2:3b',
    messages: [
      { role: 'user', content: 'call tool please' },
      { role: 'assistant', content: '', tool_calls: [{ call_id: 'c1', arguments: {} }] },
    ],
  });
  assert.equal(native.status, 400, native.text);
  assert.match(native.json.detail, /Field 'messages\[1\]\.tool_calls\[0\]\.tool_name' is required/);

  const next = await post('/v1/chat/completions', chat('llama3.2:3b'));
  assert.equal(next.status, 200, next.text);
  assert.equal(next.json.choices[0].message.content, EXPECTED('llama3.2:3b', 'hi there'));
});

test('completions, OpenAI and native, stream and not', async () => {
  for (const model of ['llama3.2:3b', 'vllm-llama']) {
    const r = await post('/v1/completions', { model, prompt: 'Once upon a time' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.object, 'text_completion');
    assert.ok(r.json.choices[0].text.length > 0);
    const s = await post('/v1/openai/v1/completions', { model, prompt: 'Once upon a time', stream: true });
    const frames = sseData(s.text);
    assert.equal(frames.at(-1), '[DONE]');
    const text = frames.slice(0, -1).map((f) => JSON.parse(f).choices[0]?.text ?? '').join('');
    assert.equal(text, r.json.choices[0].text);
  }
  const n = await post('/v1/inference/completion', { model_id: 'llama3.2:3b', content: 'Once upon a time' });
  assert.equal(n.status, 200, n.text);
  assert.ok(n.json.content.length > 0);
  assert.equal(n.json.stop_reason, 'end_of_turn');
  assert.equal(n.json.metrics.length, 3);
  const ns = await post('/v1/inference/completion', { model_id: 'llama3.2:3b', content: 'Once upon a time', stream: true });
  const chunks = sseData(ns.text).map((f) => JSON.parse(f));
  assert.equal(chunks.map((c) => c.delta).join(''), n.json.content);
  assert.equal(chunks.at(-1).stop_reason, 'end_of_turn');
  assert.equal(chunks.at(-1).metrics.length, 3);
});

test('embeddings: OpenAI float and base64, native', async () => {
  for (const model of ['all-minilm', 'vllm-embed']) {
    const r = await post('/v1/embeddings', { model, input: ['a', 'b'], encoding_format: 'float' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.object, 'list');
    assert.equal(r.json.data.length, 2);
    assert.equal(r.json.data[0].embedding.length, 8);
    const b = await post('/v1/openai/v1/embeddings', { model, input: 'a', encoding_format: 'base64' });
    const bytes = Buffer.from(b.json.data[0].embedding, 'base64');
    const decoded = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));
    assert.equal(decoded.length, 8);
    decoded.forEach((v, i) => assert.ok(Math.abs(v - r.json.data[0].embedding[i]) < 1e-6));
  }
  const n = await post('/v1/inference/embeddings', { model_id: 'all-minilm', contents: ['a', { type: 'text', text: 'b' }] });
  assert.equal(n.status, 200, n.text);
  assert.equal(n.json.embeddings.length, 2);
  assert.equal(n.json.embeddings[0].length, 8);
});

test('model resolution errors are 404/400 with clear messages', async () => {
  let r = await post('/v1/chat/completions', chat('nope'));
  assert.equal(r.status, 404);
  assert.match(r.json.error.message, /Model 'nope' not found.*POST \/v1\/models/);
  r = await post('/v1/chat/completions', chat('all-minilm'));
  assert.equal(r.status, 400);
  assert.match(r.json.detail, /embedding model/);
  r = await post('/v1/embeddings', { model: 'llama3.2:3b', input: 'x' });
  assert.equal(r.status, 400);
  r = await post('/v1/chat/completions', chat('nope', { stream: true }));
  assert.equal(r.status, 404, 'errors before the first chunk are real HTTP errors, also when streaming');
});

test('upstream faults map to clear statuses and the server stays up', async () => {
  let r = await post('/v1/chat/completions', chat('ghost'));
  assert.equal(r.status, 503);
  assert.match(r.json.detail, /Provider 'down' is unreachable/);

  await fake.control({ status: 500, error_message: 'kaboom' });
  r = await post('/v1/chat/completions', chat('vllm-llama'));
  assert.equal(r.status, 502);
  assert.match(r.json.detail, /kaboom/);

  await fake.control({ status: 400, error_message: 'bad temperature' });
  r = await post('/v1/chat/completions', chat('llama3.2:3b'));
  assert.equal(r.status, 400);
  assert.match(r.json.detail, /bad temperature/);

  await fake.control({ status: 0, malformed_body: true });
  r = await post('/v1/chat/completions', chat('vllm-llama'));
  assert.equal(r.status, 502);
  assert.match(r.json.detail, /malformed/);

  await fake.reset();
  r = await post('/v1/chat/completions', chat('unknown-upstream-model', {}));
  assert.equal(r.status, 404);
  assert.equal((await fetch(`${server.baseUrl}/v1/health`)).status, 200);
});

test('a stream that breaks mid-way ends with one error event, then closes cleanly', async () => {
  for (const model of ['llama3.2:3b', 'vllm-llama']) {
    await fake.control({ reset_after_tokens: 2 });
    const r = await post('/v1/chat/completions', chat(model, { stream: true }));
    assert.equal(r.status, 200);
    const frames = sseData(r.text);
    const errors = frames.filter((f) => f.startsWith('{"error"'));
    assert.equal(errors.length, 1, r.text);
    assert.match(JSON.parse(errors[0]).error.message, /^502: /);
    assert.equal(frames.at(-1), '[DONE]');

    await fake.reset();
    await fake.control({ malformed_stream: true });
    const m = await post('/v1/inference/chat-completion', { model_id: model, messages: [{ role: 'user', content: 'hi' }], stream: true });
    const mframes = sseData(m.text);
    assert.equal(mframes.filter((f) => f.startsWith('{"error"')).length, 1, m.text);
    await fake.reset();
  }
});

test('a client that disconnects mid-stream cancels the upstream request', async () => {
  await fake.control({ token_delay_ms: 100 });
  const before = (await fake.stats()).cancelled_streams;
  await new Promise((resolve, reject) => {
    const socket = net.connect({ port: server.port, host: '127.0.0.1' }, () => {
      const body = JSON.stringify(chat('llama3.2:3b', { stream: true }));
      socket.write(
        `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    });
    socket.once('data', () => {
      socket.destroy();
      resolve();
    });
    socket.on('error', reject);
  });
  let cancelled = before;
  for (let i = 0; i < 100 && cancelled === before; i++) {
    await new Promise((r) => setTimeout(r, 50));
    cancelled = (await fake.stats()).cancelled_streams;
  }
  assert.ok(cancelled > before, 'the fake model server saw the stream cancelled');
});

test('a client that disconnects while waiting for a non-streamed answer cancels the upstream request', async () => {
  const connect = () => new Promise((resolve, reject) => {
    const socket = net.connect({ port: server.port, host: '127.0.0.1' }, () => resolve(socket));
    socket.on('error', reject);
  });
  const request = rawChatRequest(chat('vllm-llama'));
  await expectLeavingCancelsUpstream(fake, connect, request);
  await expectPipelinedRequestAnswered(fake, connect, request);
});

test('the inference store lists and returns chat completions with cursor pagination', async () => {
  const ids = [];
  for (let i = 0; i < 3; i++) {
    const r = await post('/v1/chat/completions', chat('llama3.2:3b', { messages: [{ role: 'user', content: `number ${i}` }] }));
    ids.push(r.json.id);
  }
  const s = await post('/v1/chat/completions', chat('vllm-llama', { stream: true }));
  assert.equal(s.status, 200);
  const list = (await (await fetch(`${server.baseUrl}/v1/openai/v1/chat/completions?limit=2&model=llama3.2:3b`)).json());
  assert.equal(list.object, 'list');
  assert.equal(list.data.length, 2);
  assert.equal(list.has_more, true);
  assert.equal(list.data[0].id, ids[2]);
  assert.equal(list.data[0].input_messages[0].content, 'number 2');
  const next = await (await fetch(`${server.baseUrl}/v1/chat/completions?limit=2&model=llama3.2:3b&after=${list.last_id}`)).json();
  assert.ok(next.data.some((d) => d.id === ids[0]));
  const one = await (await fetch(`${server.baseUrl}/v1/chat/completions/${ids[1]}`)).json();
  assert.equal(one.choices[0].message.content, EXPECTED('llama3.2:3b', 'number 1'));
  const streamed = await (await fetch(`${server.baseUrl}/v1/chat/completions?model=vllm-llama&limit=1`)).json();
  assert.equal(streamed.data[0].choices[0].message.content, EXPECTED('meta-llama/Llama-3.1-8B-Instruct', 'hi there'));
  assert.equal((await fetch(`${server.baseUrl}/v1/chat/completions/nope`)).status, 404);
  assert.equal((await fetch(`${server.baseUrl}/v1/chat/completions?order=sideways`)).status, 400);
});

test('without an inference store the list routes answer 501', async () => {
  const other = await startServer(config(fake.baseUrl, { store: false }));
  try {
    const r = await fetch(`${other.baseUrl}/v1/openai/v1/chat/completions`);
    assert.equal(r.status, 501);
    assert.match((await r.json()).detail, /inference_store/);
  } finally {
    await other.stop();
  }
});

test('an upstream that stops answering is a 504', async () => {
  const other = await startServer(config(fake.baseUrl, { timeout: 1 }));
  try {
    await fake.control({ hang: true });
    const r = await fetch(`${other.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chat('vllm-llama')),
    });
    assert.equal(r.status, 504);
    assert.match((await r.json()).detail, /timed out/);
  } finally {
    await fake.reset();
    await other.stop();
  }
});

test('thousands of failed requests leak no sockets', async () => {
  const fds = () => readdirSync(`/proc/${server.proc.pid}/fd`).length;
  const warm = async (n) => {
    for (let i = 0; i < n; i += 50) {
      await Promise.all(Array.from({ length: 50 }, () => post('/v1/chat/completions', chat(i % 100 ? 'ghost' : 'nope'))));
    }
  };
  // The client's idle keep-alive sockets (undici closes them after 4 s) are
  // server fds too: compare settled counts.
  const settled = async () => {
    await new Promise((r) => setTimeout(r, 5000));
    return fds();
  };
  await warm(200);
  const baseline = await settled();
  await warm(2000);
  const afterwards = await settled();
  assert.ok(afterwards <= baseline + 8, `fds grew from ${baseline} to ${afterwards}`);
  const status = readFileSync(`/proc/${server.proc.pid}/status`, 'utf8');
  assert.match(status, /VmRSS/);
});

test('refresh_models lists the models upstreams serve as <provider_id>/<name>', async () => {
  const other = await startServer(`
version: 2
image_name: discovery-test
apis: [inference]
providers:
  inference:
  - {provider_id: ollama, provider_type: remote::ollama, config: {url: "${fake.baseUrl}", refresh_models: true}}
  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "${fake.baseUrl}/v1", refresh_models: true}}
  - {provider_id: quiet, provider_type: remote::ollama, config: {url: "${fake.baseUrl}"}}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
`);
  try {
    let ids = [];
    for (let i = 0; i < 100 && !(ids.includes('ollama/llama3.2:3b') && ids.includes('vllm/meta-llama/Llama-3.1-8B-Instruct')); i++) {
      await new Promise((r) => setTimeout(r, 50));
      ids = (await (await fetch(`${other.baseUrl}/v1/models`)).json()).data.map((m) => m.identifier);
    }
    assert.ok(ids.includes('ollama/llama3.2:3b'), ids.join(','));
    assert.ok(ids.includes('vllm/meta-llama/Llama-3.1-8B-Instruct'), ids.join(','));
    assert.ok(!ids.some((id) => id.startsWith('quiet/')), 'providers without refresh_models add nothing');
    const r = await fetch(`${other.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chat('ollama/llama3.2:3b')),
    });
    assert.equal(r.status, 200);
    assert.equal((await r.json()).choices[0].message.content, EXPECTED('llama3.2:3b', 'hi there'));
  } finally {
    await other.stop();
  }
});
