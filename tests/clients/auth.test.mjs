// The official clients against an authenticated, quota-limited server: the
// apiKey travels as a Bearer token, and 401/429 surface as the SDKs' errors.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import LlamaStackClient0212 from 'llama-stack-client-0212';
import LlamaStackClient073 from 'llama-stack-client-073';
import OpenAI from 'openai';

import { startServer } from './lib/server.mjs';
import { startIdentityServer } from './lib/identity_server.mjs';

let idp;
let server;

before(async () => {
  idp = await startIdentityServer();
  server = await startServer(`
version: 2
image_name: clients-auth
apis: [inference]
providers:
  inference:
  - {provider_id: ollama, provider_type: remote::ollama, config: {url: "http://127.0.0.1:9"}}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
models:
- {model_id: llama3.2:3b, provider_id: ollama}
server:
  auth:
    provider_type: custom
    config: {endpoint: "${idp.customUrl}"}
  quota:
    kvstore: {type: sqlite, db_path: "{{TMP}}/quotas.db"}
    anonymous_max_requests: 100
    authenticated_max_requests: 3
    period: day
`);
});

after(async () => {
  await server?.stop();
  await idp?.stop();
});

test('llama-stack-client 0.2.12 and 0.7.3 send apiKey as a Bearer token', async () => {
  idp.state.custom = { status: 200, body: { principal: 'sdk-user-1', attributes: { roles: ['r'] } } };
  const c0212 = new LlamaStackClient0212({ baseURL: server.baseUrl, apiKey: 'key-0212', maxRetries: 0 });
  const models = await c0212.models.list();
  assert.ok(models.some((m) => m.identifier === 'llama3.2:3b'));
  assert.equal(idp.state.customRequests.at(-1).body.api_key, 'key-0212');

  idp.state.custom = { status: 200, body: { principal: 'sdk-user-2', attributes: { roles: ['r'] } } };
  const c073 = new LlamaStackClient073({ baseURL: server.baseUrl, apiKey: 'key-073', maxRetries: 0 });
  await c073.models.list();
  assert.equal(idp.state.customRequests.at(-1).body.api_key, 'key-073');
});

test('a rejected key is an AuthenticationError (401) in every client', async () => {
  idp.state.custom = { status: 403, body: {} };
  try {
    for (const client of [
      new LlamaStackClient0212({ baseURL: server.baseUrl, apiKey: 'bad', maxRetries: 0 }),
      new LlamaStackClient073({ baseURL: server.baseUrl, apiKey: 'bad', maxRetries: 0 }),
    ]) {
      await assert.rejects(client.models.list(), (e) => e.status === 401 && e.constructor.name === 'AuthenticationError');
    }
    const openai = new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: 'bad', maxRetries: 0 });
    await assert.rejects(openai.models.list(), (e) => e.status === 401 && /Authentication failed: 403/.test(e.message));
  } finally {
    idp.state.custom = { status: 200, body: { principal: 'api-user', attributes: { roles: ['user'] } } };
  }
});

test('an exhausted quota is a RateLimitError (429) in every client', async () => {
  idp.state.custom = { status: 200, body: { principal: 'quota-user', attributes: { roles: ['q'] } } };
  const c0212 = new LlamaStackClient0212({ baseURL: server.baseUrl, apiKey: 'quota-key', maxRetries: 0 });
  for (let i = 0; i < 3; i++) await c0212.models.list();
  await assert.rejects(c0212.models.list(), (e) => e.status === 429 && e.constructor.name === 'RateLimitError');
  const c073 = new LlamaStackClient073({ baseURL: server.baseUrl, apiKey: 'quota-key', maxRetries: 0 });
  await assert.rejects(c073.models.list(), (e) => e.status === 429 && e.constructor.name === 'RateLimitError');
  const openai = new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: 'quota-key', maxRetries: 0 });
  await assert.rejects(openai.models.list(), (e) => e.status === 429 && /Quota exceeded/.test(e.message));
});
