// Chat completions (stream and not), completions and embeddings through the
// official clients: llama-stack-client 0.2.12 (native /v1/inference/* routes),
// llama-stack-client 0.7.3 and openai (OpenAI routes), against the fake model
// server speaking the Ollama and OpenAI wire protocols.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import LlamaStackClient0212 from 'llama-stack-client-0212';
import LlamaStackClient073 from 'llama-stack-client-073';
import OpenAI from 'openai';

import { startServer } from './lib/server.mjs';
import { startFakeModelServer } from './lib/fake_model_server.mjs';

let fake;
let server;
let c0212;
let c073;
let openai;

const EXPECTED = (model, said) => `Hello from ${model}! You said: ${said}`;

before(async () => {
  fake = await startFakeModelServer();
  server = await startServer(`
version: 2
image_name: clients-inference
apis: [inference]
providers:
  inference:
  - {provider_id: ollama, provider_type: remote::ollama, config: {url: "${fake.baseUrl}"}}
  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "${fake.baseUrl}/v1"}}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
models:
- {model_id: llama3.2:3b, provider_id: ollama}
- {model_id: vllm-llama, provider_id: vllm, provider_model_id: meta-llama/Llama-3.1-8B-Instruct}
- {model_id: all-minilm, provider_id: ollama, model_type: embedding, metadata: {embedding_dimension: 8}}
`);
  c0212 = new LlamaStackClient0212({ baseURL: server.baseUrl, maxRetries: 0 });
  c073 = new LlamaStackClient073({ baseURL: server.baseUrl, maxRetries: 0 });
  openai = new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
});

after(async () => {
  await server?.stop();
  await fake?.stop();
});

describe('llama-stack-client 0.2.12 (native routes)', () => {
  test('inference.chatCompletion, non-stream', async () => {
    const r = await c0212.inference.chatCompletion({
      model_id: 'llama3.2:3b',
      messages: [{ role: 'user', content: 'hi there' }],
    });
    assert.equal(r.completion_message.content, EXPECTED('llama3.2:3b', 'hi there'));
    assert.equal(r.completion_message.stop_reason, 'end_of_turn');
    assert.equal(r.metrics.length, 3);
  });

  test('inference.chatCompletion, stream', async () => {
    const stream = await c0212.inference.chatCompletion({
      model_id: 'vllm-llama',
      messages: [{ role: 'user', content: 'hi there' }],
      stream: true,
    });
    const types = [];
    let text = '';
    for await (const chunk of stream) {
      types.push(chunk.event.event_type);
      if (chunk.event.delta.type === 'text') text += chunk.event.delta.text;
    }
    assert.equal(types[0], 'start');
    assert.equal(types.at(-1), 'complete');
    assert.equal(text, EXPECTED('meta-llama/Llama-3.1-8B-Instruct', 'hi there'));
  });

  test('inference.completion and inference.embeddings', async () => {
    const c = await c0212.inference.completion({ model_id: 'llama3.2:3b', content: 'Once upon a time' });
    assert.ok(c.content.length > 0);
    const e = await c0212.inference.embeddings({ model_id: 'all-minilm', contents: ['a', 'b'] });
    assert.equal(e.embeddings.length, 2);
    assert.equal(e.embeddings[0].length, 8);
  });

  test('an unknown model is a NotFoundError', async () => {
    await assert.rejects(
      c0212.inference.chatCompletion({ model_id: 'nope', messages: [{ role: 'user', content: 'x' }] }),
      (e) => e.status === 404,
    );
  });

  test('chat.completions on the OpenAI route works without a [DONE] the SDK cannot parse', async () => {
    const stream = await c0212.chat.completions.create({
      model: 'llama3.2:3b',
      messages: [{ role: 'user', content: 'hi there' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    assert.equal(text, EXPECTED('llama3.2:3b', 'hi there'));
  });
});

describe('llama-stack-client 0.7.3 (OpenAI routes)', () => {
  test('chat.completions.create, stream and not', async () => {
    const r = await c073.chat.completions.create({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'hi there' }] });
    assert.equal(r.choices[0].message.content, EXPECTED('llama3.2:3b', 'hi there'));
    const stream = await c073.chat.completions.create({
      model: 'vllm-llama',
      messages: [{ role: 'user', content: 'hi there' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    assert.equal(text, EXPECTED('meta-llama/Llama-3.1-8B-Instruct', 'hi there'));
  });

  test('completions.create and embeddings.create', async () => {
    const c = await c073.completions.create({ model: 'llama3.2:3b', prompt: 'Once upon a time' });
    assert.ok(c.choices[0].text.length > 0);
    const e = await c073.embeddings.create({ model: 'all-minilm', input: ['a'] });
    assert.equal(e.data[0].embedding.length, 8);
  });
});

describe('openai', () => {
  test('chat.completions.create, non-stream and stream with usage', async () => {
    const r = await openai.chat.completions.create({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'hi there' }] });
    assert.equal(r.choices[0].message.content, EXPECTED('llama3.2:3b', 'hi there'));
    assert.equal(r.usage.total_tokens, 9);
    const stream = await openai.chat.completions.create({
      model: 'llama3.2:3b',
      messages: [{ role: 'user', content: 'hi there' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, EXPECTED('llama3.2:3b', 'hi there'));
    assert.equal(usage.completion_tokens, 7);
  });

  test('chat.completions.stream() helper assembles tool calls', async () => {
    const runner = openai.chat.completions.stream({
      model: 'vllm-llama',
      messages: [{ role: 'user', content: 'call tool now' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }],
    });
    const final = await runner.finalChatCompletion();
    assert.equal(final.choices[0].message.tool_calls[0].function.name, 'get_weather');
  });

  test('completions.create and embeddings.create (base64 by default)', async () => {
    const c = await openai.completions.create({ model: 'vllm-llama', prompt: 'Once upon a time' });
    assert.ok(c.choices[0].text.length > 0);
    const e = await openai.embeddings.create({ model: 'all-minilm', input: 'a' });
    const f = await openai.embeddings.create({ model: 'all-minilm', input: 'a', encoding_format: 'float' });
    assert.equal(e.data[0].embedding.length, 8);
    e.data[0].embedding.forEach((v, i) => assert.ok(Math.abs(v - f.data[0].embedding[i]) < 1e-6));
  });

  test('errors surface as APIError with the server message', async () => {
    await assert.rejects(
      openai.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
      (e) => e.status === 404 && /Model 'nope' not found/.test(e.message),
    );
    await fake.control({ reset_after_tokens: 2 });
    try {
      const stream = await openai.chat.completions.create({
        model: 'llama3.2:3b',
        messages: [{ role: 'user', content: 'hi there' }],
        stream: true,
      });
      await assert.rejects(async () => {
        for await (const chunk of stream) void chunk;
      }, /502/);
    } finally {
      await fake.reset();
    }
  });
});
