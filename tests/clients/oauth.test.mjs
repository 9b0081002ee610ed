// server.oauth through the official clients: a model the token's scopes don't
// cover is a PermissionDeniedError (403) and a tier's exhausted rate limit a
// RateLimitError (429), in every client.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import LlamaStackClient0212 from 'llama-stack-client-0212';
import LlamaStackClient073 from 'llama-stack-client-073';
import OpenAI from 'openai';

import { startServer } from './lib/server.mjs';
import { startIdentityServer, ISSUER } from './lib/identity_server.mjs';
import { startFakeModelServer } from './lib/fake_model_server.mjs';

let idp;
let fake;
let server;

before(async () => {
  idp = await startIdentityServer();
  fake = await startFakeModelServer();
  server = await startServer(`
version: 2
image_name: clients-oauth
apis: [inference]
providers:
  inference:
  - {provider_id: ollama, provider_type: remote::ollama, config: {url: "${fake.baseUrl}"}}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
models:
- {model_id: llama3.2:3b, provider_id: ollama, metadata: {required_scope: model_small}}
- {model_id: big-model, provider_id: ollama, provider_model_id: llama3.2:3b, metadata: {required_scope: model_big}}
server:
  auth:
    provider_type: oauth2_token
    config: {jwks: {uri: "${idp.jwksUrl}"}, issuer: "${ISSUER}"}
  oauth:
    enforce_model_permissions: true
    enable_rate_limiting: true
    rate_limit_store: {type: sqlite, db_path: "{{TMP}}/rate.db"}
    rate_limit_tiers:
      free: {requests_per_minute: 100, tokens_per_minute: 1000000}
      basic: {requests_per_minute: 2, tokens_per_minute: 1000000}
`);
});

after(async () => {
  await server?.stop();
  await fake?.stop();
  await idp?.stop();
});

const messages = [{ role: 'user', content: 'hi there' }];

test('a model outside the token scopes is a 403 in every client', async () => {
  const token = idp.sign({ sub: 'scoped', scope: 'model_small' });
  const c0212 = new LlamaStackClient0212({ baseURL: server.baseUrl, apiKey: token, maxRetries: 0 });
  const ok = await c0212.inference.chatCompletion({ model_id: 'llama3.2:3b', messages });
  assert.ok(ok.completion_message.content.startsWith('Hello from'));
  await assert.rejects(
    c0212.inference.chatCompletion({ model_id: 'big-model', messages }),
    (e) => e.status === 403 && e.constructor.name === 'PermissionDeniedError' && /model_big/.test(e.message),
  );
  const c073 = new LlamaStackClient073({ baseURL: server.baseUrl, apiKey: token, maxRetries: 0 });
  await assert.rejects(c073.chat.completions.create({ model: 'big-model', messages }), (e) => e.status === 403);
  const openai = new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: token, maxRetries: 0 });
  await assert.rejects(openai.chat.completions.create({ model: 'big-model', messages }), (e) => e.status === 403 && /model_big/.test(e.message));
  const listed = await c073.models.list();
  assert.deepEqual(listed.map((m) => m.id), ['llama3.2:3b'], 'the user-accessible model listing');
});

test('an exhausted tier rate limit is a 429 in every client', async () => {
  const token = idp.sign({ sub: 'basic-user', scope: 'model_small basic_access' });
  const openai = new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: token, maxRetries: 0 });
  await openai.chat.completions.create({ model: 'llama3.2:3b', messages });
  await openai.chat.completions.create({ model: 'llama3.2:3b', messages });
  await assert.rejects(openai.chat.completions.create({ model: 'llama3.2:3b', messages }), (e) => e.status === 429 && /tier 'basic'/.test(e.message));
  const c0212 = new LlamaStackClient0212({ baseURL: server.baseUrl, apiKey: token, maxRetries: 0 });
  await assert.rejects(c0212.inference.chatCompletion({ model_id: 'llama3.2:3b', messages }), (e) => e.status === 429 && e.constructor.name === 'RateLimitError');
  const c073 = new LlamaStackClient073({ baseURL: server.baseUrl, apiKey: token, maxRetries: 0 });
  await assert.rejects(c073.chat.completions.create({ model: 'llama3.2:3b', messages }), (e) => e.status === 429);
});
