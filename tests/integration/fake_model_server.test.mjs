// The fake model server (tests/support/fake_model_server) that the inference tests run
// against: its OpenAI and Ollama wire formats, and its fault injection.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';

import { startFakeModelServer, fakeReply, fakeEmbedding } from '../clients/lib/fake_model_server.mjs';

const MODEL = 'llama3.2:3b';
let fake;

before(async () => {
  fake = await startFakeModelServer({ threads: 1 });
});

after(async () => {
  if (fake) {
    const result = await fake.stop();
    assert.equal(result.code, 0, `fake-model-server exited with ${JSON.stringify(result)}`);
  }
});

beforeEach(async () => {
  await fake.reset();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function post(path, body, { headers = {}, signal } = {}) {
  return fetch(`${fake.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal,
  });
}

/** Splits an SSE body into its `data:` payloads (strings). */
function sseData(text) {
  return text
    .split('\n\n')
    .filter((event) => event.startsWith('data: '))
    .map((event) => event.slice('data: '.length));
}

/** Reads a body until it ends or breaks; resolves with {text, error}. */
async function readAll(res) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text, error: null };
      text += decoder.decode(value, { stream: true });
    }
  } catch (error) {
    return { text, error };
  }
}

async function waitFor(predicate, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) return value;
    await sleep(25);
  }
}

test('chat completion: deterministic content, usage, and the request is recorded', async () => {
  const res = await post(
    '/v1/chat/completions',
    {
      model: MODEL,
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: [{ type: 'text', text: 'What is  the weather?' }] },
      ],
    },
    { headers: { authorization: 'Bearer sk-test-key' } },
  );
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  const body = await res.json();
  assert.match(body.id, /^chatcmpl-fake-\d+$/);
  assert.equal(body.object, 'chat.completion');
  assert.equal(body.model, MODEL);
  assert.equal(typeof body.created, 'number');
  const expected = fakeReply(MODEL, 'What is the weather?');
  assert.equal(expected, 'Hello from llama3.2:3b! You said: What is the weather?');
  assert.deepEqual(body.choices, [
    { index: 0, message: { role: 'assistant', content: expected }, finish_reason: 'stop', logprobs: null },
  ]);
  // prompt: 3 + 4 words; reply: 9 words.
  assert.deepEqual(body.usage, { prompt_tokens: 7, completion_tokens: 9, total_tokens: 16 });

  const stats = await fake.stats();
  assert.equal(stats.requests, 1);
  assert.equal(stats.last_authorization, 'Bearer sk-test-key');
  assert.equal(stats.last_request.method, 'POST');
  assert.equal(stats.last_request.path, '/v1/chat/completions');
  assert.equal(stats.last_request.headers.authorization, 'Bearer sk-test-key');
  assert.equal(stats.last_request.body.model, MODEL);
});

test('chat completion stream: role chunk, one chunk per token, finish, usage, [DONE]', async () => {
  const res = await post('/v1/chat/completions', {
    model: MODEL,
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'hi there' }],
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/event-stream/);
  const data = sseData(await res.text());
  assert.equal(data.at(-1), '[DONE]');
  const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
  const words = fakeReply(MODEL, 'hi there').split(' ');
  assert.equal(chunks.length, 1 + words.length + 2);
  for (const c of chunks) {
    assert.equal(c.object, 'chat.completion.chunk');
    assert.equal(c.id, chunks[0].id);
  }
  assert.deepEqual(chunks[0].choices, [
    { index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null },
  ]);
  const deltas = chunks.slice(1, 1 + words.length).map((c) => c.choices[0].delta.content);
  assert.deepEqual(
    deltas,
    words.map((w, i) => (i + 1 < words.length ? `${w} ` : w)),
  );
  const finish = chunks[1 + words.length];
  assert.deepEqual(finish.choices, [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]);
  const usage = chunks.at(-1);
  assert.deepEqual(usage.choices, []);
  assert.deepEqual(usage.usage, { prompt_tokens: 2, completion_tokens: words.length, total_tokens: 2 + words.length });
});

test('max_tokens cuts the reply with finish_reason "length"; "call tool" gives a tool call', async () => {
  const cut = await (
    await post('/v1/chat/completions', { model: MODEL, max_tokens: 3, messages: [{ role: 'user', content: 'x' }] })
  ).json();
  assert.equal(cut.choices[0].message.content, 'Hello from llama3.2:3b!');
  assert.equal(cut.choices[0].finish_reason, 'length');
  assert.equal(cut.usage.completion_tokens, 3);

  const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }];
  const call = await (
    await post('/v1/chat/completions', { model: MODEL, tools, messages: [{ role: 'user', content: 'please call tool' }] })
  ).json();
  assert.equal(call.choices[0].finish_reason, 'tool_calls');
  assert.equal(call.choices[0].message.content, null);
  assert.deepEqual(call.choices[0].message.tool_calls, [
    { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
  ]);

  const streamed = sseData(
    await (
      await post('/v1/chat/completions', {
        model: MODEL,
        stream: true,
        tools,
        messages: [{ role: 'user', content: 'call tool' }],
      })
    ).text(),
  );
  const toolChunk = JSON.parse(streamed[1]);
  assert.deepEqual(toolChunk.choices[0].delta.tool_calls, [
    { index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
  ]);
  assert.equal(JSON.parse(streamed[2]).choices[0].finish_reason, 'tool_calls');

  const ollama = await (
    await post('/api/chat', { model: MODEL, stream: false, tools, messages: [{ role: 'user', content: 'call tool' }] })
  ).json();
  assert.deepEqual(ollama.message.tool_calls, [{ function: { name: 'get_weather', arguments: { location: 'Paris' } } }]);
});

test('"call tool <name> {args}" picks the tool and its arguments; a tool result is answered', async () => {
  const tools = [
    { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } },
    { type: 'function', function: { name: 'knowledge_search', parameters: { type: 'object' } } },
  ];
  const ask = async (content) =>
    (await (await post('/v1/chat/completions', { model: MODEL, tools, messages: [{ role: 'user', content }] })).json()).choices[0].message.tool_calls[0].function;
  assert.deepEqual(await ask('call tool knowledge_search {"query": "python lists"}'), { name: 'knowledge_search', arguments: '{"query":"python lists"}' });
  assert.deepEqual(await ask('call tool nosuchtool'), { name: 'get_weather', arguments: '{"location":"Paris"}' });
  const broken = await ask('call tool get_weather with broken arguments');
  assert.throws(() => JSON.parse(broken.arguments));
  const ollama = await (
    await post('/api/chat', { model: MODEL, stream: false, tools, messages: [{ role: 'user', content: 'call tool knowledge_search {"query": "x"}' }] })
  ).json();
  assert.deepEqual(ollama.message.tool_calls, [{ function: { name: 'knowledge_search', arguments: { query: 'x' } } }]);

  const answered = await (
    await post('/v1/chat/completions', {
      model: MODEL,
      tools,
      messages: [
        { role: 'user', content: 'call tool get_weather' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny and 21 degrees' },
      ],
    })
  ).json();
  assert.equal(answered.choices[0].message.content, 'Hello from llama3.2:3b! The tool said: sunny and 21 degrees');
  assert.equal(answered.choices[0].finish_reason, 'stop');
});

test('ollama /api/chat streams NDJSON by default and ends with the counts', async () => {
  const res = await post('/api/chat', {
    model: MODEL,
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Why is the sky blue?' },
    ],
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/x-ndjson/);
  const text = await res.text();
  assert.ok(text.endsWith('\n'));
  const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l));
  const expected = fakeReply(MODEL, 'Why is the sky blue?');
  const words = expected.split(' ');
  assert.equal(lines.length, words.length + 1);
  for (const line of lines.slice(0, -1)) {
    assert.equal(line.model, MODEL);
    assert.match(line.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
    assert.equal(line.done, false);
    assert.equal(line.message.role, 'assistant');
  }
  assert.equal(lines.slice(0, -1).map((l) => l.message.content).join(''), expected);
  const last = lines.at(-1);
  assert.equal(last.done, true);
  assert.equal(last.done_reason, 'stop');
  assert.deepEqual(last.message, { role: 'assistant', content: '' });
  assert.equal(last.prompt_eval_count, 7);
  assert.equal(last.eval_count, words.length);
  for (const key of ['total_duration', 'load_duration', 'prompt_eval_duration', 'eval_duration']) {
    assert.equal(typeof last[key], 'number', key);
  }

  const single = await (
    await post('/api/chat', {
      model: MODEL,
      stream: false,
      options: { num_predict: 2 },
      messages: [{ role: 'user', content: 'hi' }],
    })
  ).json();
  assert.equal(single.message.content, 'Hello from');
  assert.equal(single.done, true);
  assert.equal(single.done_reason, 'length');
  assert.equal(single.eval_count, 2);

  const generated = await (await post('/api/generate', { model: MODEL, prompt: 'a b c', stream: false })).json();
  assert.equal(generated.response, fakeReply(MODEL, 'a b c'));
  assert.equal(generated.prompt_eval_count, 3);
});

test('embeddings: /api/embed and /v1/embeddings give the same deterministic vectors', async () => {
  const plain = await (await post('/api/embed', { model: 'all-minilm', input: 'hello world' })).json();
  assert.equal(plain.model, 'all-minilm');
  assert.equal(plain.embeddings.length, 1);
  assert.equal(plain.embeddings[0].length, 8);
  assert.deepEqual(plain.embeddings[0], fakeEmbedding('hello world'));
  assert.equal(plain.prompt_eval_count, 2);

  const sized = await (await post('/api/embed', { model: 'all-minilm', input: ['a', 'b c'], dimensions: 16 })).json();
  assert.deepEqual(
    sized.embeddings.map((e) => e.length),
    [16, 16],
  );
  assert.deepEqual(sized.embeddings[1], fakeEmbedding('b c', 16));

  const openai = await (
    await post('/v1/embeddings', { model: 'all-minilm', input: ['a', 'b c'], dimensions: 16 })
  ).json();
  assert.equal(openai.object, 'list');
  assert.deepEqual(
    openai.data.map((d) => d.embedding),
    sized.embeddings,
  );
  assert.deepEqual(openai.data.map((d) => d.index), [0, 1]);
  assert.deepEqual(openai.usage, { prompt_tokens: 3, total_tokens: 3 });

  const b64 = await (
    await post('/v1/embeddings', { model: 'all-minilm', input: 'a', encoding_format: 'base64' })
  ).json();
  const bytes = Buffer.from(b64.data[0].embedding, 'base64');
  const floats = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));
  assert.deepEqual(floats, fakeEmbedding('a').map((v) => Math.fround(v)));
});

test('bow-embed: a normalised bag of words, so texts sharing words are close', async () => {
  const embed = async (input) => (await (await post('/v1/embeddings', { model: 'bow-embed', input })).json()).data.map((d) => d.embedding);
  const [a, b, c] = await embed(['Python code', 'python CODE!', 'risotto rice']);
  assert.equal(a.length, 64);
  assert.deepEqual(a, b, 'case and punctuation do not matter');
  const dot = (x, y) => x.reduce((s, v, i) => s + v * y[i], 0);
  assert.ok(Math.abs(dot(a, a) - 1) < 1e-5, 'unit length');
  assert.ok(dot(a, b) > dot(a, c));
  const [sized] = await embed(['x']);
  assert.equal(sized.filter((v) => v !== 0).length, 1);
});

test('models, unknown models and malformed bodies use each protocol\'s shapes', async () => {
  const models = await (await fetch(`${fake.baseUrl}/v1/models`)).json();
  assert.deepEqual(
    models.data.map((m) => [m.id, m.object, m.owned_by]),
    [
      ['llama3.2:3b', 'model', 'fake'],
      ['meta-llama/Llama-3.1-8B-Instruct', 'model', 'fake'],
      ['all-minilm', 'model', 'fake'],
      ['bow-embed', 'model', 'fake'],
      ['bow-embed-384', 'model', 'fake'],
    ],
  );
  const tags = await (await fetch(`${fake.baseUrl}/api/tags`)).json();
  assert.deepEqual(tags.models[0].details, {
    parent_model: '',
    format: 'gguf',
    family: 'llama',
    families: ['llama'],
    parameter_size: '3B',
    quantization_level: 'Q4_K_M',
  });

  const missing = await post('/v1/chat/completions', { model: 'nope', messages: [{ role: 'user', content: 'x' }] });
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), {
    error: {
      message: 'The model `nope` does not exist.',
      type: 'invalid_request_error',
      param: 'model',
      code: 'model_not_found',
    },
  });
  const ollamaMissing = await post('/api/chat', { model: 'nope', messages: [] });
  assert.equal(ollamaMissing.status, 404);
  assert.deepEqual(await ollamaMissing.json(), { error: 'model "nope" not found, try pulling it first' });

  const bad = await post('/v1/chat/completions', '{"model": ');
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.type, 'invalid_request_error');
  const badOllama = await post('/api/chat', '{"model": ');
  assert.equal(badOllama.status, 400);
  assert.equal(typeof (await badOllama.json()).error, 'string');
});

test('control: injected status answers every model endpoint until reset', async () => {
  const config = await fake.control({ status: 503, error_message: 'overloaded' });
  assert.equal(config.status, 503);

  const res = await post('/v1/chat/completions', { model: MODEL, messages: [{ role: 'user', content: 'x' }] });
  assert.equal(res.status, 503);
  assert.deepEqual(await res.json(), {
    error: { message: 'overloaded', type: 'server_error', param: null, code: null },
  });
  const ollama = await post('/api/chat', { model: MODEL, messages: [{ role: 'user', content: 'x' }] });
  assert.equal(ollama.status, 503);
  assert.deepEqual(await ollama.json(), { error: 'overloaded' });

  await fake.reset();
  const ok = await post('/v1/chat/completions', { model: MODEL, messages: [{ role: 'user', content: 'x' }] });
  assert.equal(ok.status, 200);
  await ok.arrayBuffer();

  // status_count: only the next N requests fail (for retry tests).
  await fake.control({ status: 500, status_count: 1 });
  assert.equal((await post('/api/embed', { model: 'all-minilm', input: 'x' })).status, 500);
  assert.equal((await post('/api/embed', { model: 'all-minilm', input: 'x' })).status, 200);

  const rejected = await fetch(`${fake.baseUrl}/control`, { method: 'POST', body: '{"latency":5}' });
  assert.equal(rejected.status, 400);
});

test('control: reset_after_tokens drops the connection mid-stream', async () => {
  await fake.control({ reset_after_tokens: 2 });
  const res = await post('/v1/chat/completions', {
    model: MODEL,
    stream: true,
    messages: [{ role: 'user', content: 'one two three' }],
  });
  assert.equal(res.status, 200);
  const { text, error } = await readAll(res);
  assert.ok(error, 'the body must end with an error, not cleanly');
  const data = sseData(text);
  assert.ok(!data.includes('[DONE]'));
  const contents = data.map((d) => JSON.parse(d).choices[0].delta.content);
  assert.deepEqual(contents, ['', 'Hello ', 'from ']);

  const ollama = await post('/api/chat', { model: MODEL, messages: [{ role: 'user', content: 'x' }] });
  const cut = await readAll(ollama);
  assert.ok(cut.error);
  const lines = cut.text.trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  assert.ok(lines.every((l) => l.done === false));
});

test('control: cancelled_streams counts clients that leave a paced stream', async () => {
  await fake.control({ token_delay_ms: 50 });
  const controller = new AbortController();
  const res = await post(
    '/v1/chat/completions',
    { model: MODEL, stream: true, messages: [{ role: 'user', content: 'word '.repeat(200) }] },
    { signal: controller.signal },
  );
  const reader = res.body.getReader();
  const first = await reader.read();
  assert.match(new TextDecoder().decode(first.value), /"role":"assistant"/);
  controller.abort();
  await reader.read().catch(() => {});
  const stats = await waitFor(async () => {
    const s = await fake.stats();
    return s.cancelled_streams === 1 ? s : null;
  });
  assert.ok(stats, 'cancelled_streams never reached 1');
  assert.equal(stats.requests, 1);
});

test('control: latency, malformed bodies and streams, hang', async () => {
  await fake.control({ latency_ms: 300 });
  const started = Date.now();
  const slow = post('/v1/chat/completions', { model: MODEL, messages: [{ role: 'user', content: 'x' }] });
  // Delays never block the I/O thread (the fake runs with one): other requests are answered meanwhile.
  await sleep(50);
  await fake.stats();
  assert.ok(Date.now() - started < 250, `stats took until ${Date.now() - started} ms`);
  const res = await slow;
  assert.equal(res.status, 200);
  await res.json();
  assert.ok(Date.now() - started >= 280, `answered after ${Date.now() - started} ms`);
  await fake.reset();

  await fake.control({ malformed_body: true });
  const broken = await post('/v1/chat/completions', { model: MODEL, messages: [{ role: 'user', content: 'x' }] });
  assert.equal(broken.status, 200);
  assert.equal(await broken.text(), '{"id": "broken"');
  await fake.reset();

  await fake.control({ malformed_stream: true });
  const garbled = sseData(
    await (
      await post('/v1/chat/completions', { model: MODEL, stream: true, messages: [{ role: 'user', content: 'x' }] })
    ).text(),
  );
  assert.equal(garbled[2], '{not json');
  assert.equal(garbled.at(-1), '[DONE]');
  await fake.reset();

  await fake.control({ hang: true });
  const hung = post('/api/chat', { model: MODEL, messages: [{ role: 'user', content: 'x' }] }, {
    signal: AbortSignal.timeout(300),
  });
  await assert.rejects(hung, (e) => e.name === 'TimeoutError');
  assert.equal((await fake.stats()).hung_requests, 1);
  await fake.reset();
  assert.equal((await fake.stats()).hung_requests, 0);
});
