// server.oauth (the OAuth 2.1 resource-server recommendation): model access by
// scope on every inference route and on the model listings, protected-resource
// metadata, and the LLAMA_STACK_OAUTH_* environment variables.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';

import { startServer } from '../clients/lib/server.mjs';
import { startIdentityServer, ISSUER } from '../clients/lib/identity_server.mjs';
import { startFakeModelServer } from '../clients/lib/fake_model_server.mjs';

let idp;
let fake;
before(async () => {
  idp = await startIdentityServer();
  fake = await startFakeModelServer();
});
after(async () => {
  await idp?.stop();
  await fake?.stop();
});

const STACK_URI = 'https://stack.test';

const config = (oauth, auth = true) => `
version: 2
image_name: oauth-test
apis: [inference]
providers:
  inference:
  - {provider_id: ollama, provider_type: remote::ollama, config: {url: "${fake.baseUrl}"}}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
models:
- {model_id: llama3.2:3b, provider_id: ollama}
- {model_id: big-model, provider_id: ollama, provider_model_id: llama3.2:3b, metadata: {required_scope: model_big}}
- {model_id: unmapped, provider_id: ollama, provider_model_id: llama3.2:3b}
- {model_id: all-minilm, provider_id: ollama, model_type: embedding, metadata: {embedding_dimension: 8}}
server:
${auth ? `  auth:
    provider_type: oauth2_token
    config:
      jwks: {uri: "${idp.jwksUrl}"}
      issuer: ${ISSUER}
      audience: ${STACK_URI}` : ''}
  oauth:
${oauth}
`;

const OAUTH = `    auth_server_uri: ${ISSUER}
    stack_uri: ${STACK_URI}
    enforce_model_permissions: true
    model_scope_overrides:
      llama3.2:3b: model_small
      all-minilm: model_embed`;

async function call(server, method, path, token, body) {
  const res = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : null };
}

describe('model access by scope', () => {
  let server;
  before(async () => {
    server = await startServer(config(OAUTH));
  });
  after(async () => server?.stop());

  const token = (scope) => idp.sign({ aud: STACK_URI, scope });

  test('every inference route allows the right scope and refuses others with 403 naming the scope', async () => {
    const small = token('model_small');
    const chat = { model: 'llama3.2:3b', messages: [{ role: 'user', content: 'hi' }] };
    assert.equal((await call(server, 'POST', '/v1/chat/completions', small, chat)).status, 200);
    assert.equal((await call(server, 'POST', '/v1/openai/v1/completions', small, { model: 'llama3.2:3b', prompt: 'x' })).status, 200);
    assert.equal((await call(server, 'POST', '/v1/inference/chat-completion', small, { model_id: 'llama3.2:3b', messages: chat.messages })).status, 200);
    for (const [path, body] of [
      ['/v1/chat/completions', { ...chat, model: 'big-model' }],
      ['/v1/openai/v1/chat/completions', { ...chat, model: 'big-model', stream: true }],
      ['/v1/completions', { model: 'big-model', prompt: 'x' }],
      ['/v1/inference/chat-completion', { model_id: 'big-model', messages: chat.messages }],
      ['/v1/inference/completion', { model_id: 'big-model', content: 'x' }],
    ]) {
      const r = await call(server, 'POST', path, small, body);
      assert.equal(r.status, 403, path);
      assert.match(r.json.detail, /requires scope 'model_big'/);
    }
    const embed = await call(server, 'POST', '/v1/embeddings', small, { model: 'all-minilm', input: 'x' });
    assert.equal(embed.status, 403);
    assert.equal((await call(server, 'POST', '/v1/embeddings', token('model_embed'), { model: 'all-minilm', input: 'x' })).status, 200);
    assert.equal((await call(server, 'POST', '/v1/inference/embeddings', token('model_embed'), { model_id: 'all-minilm', contents: ['x'] })).status, 200);
    // scp as a list works too
    const scp = idp.sign({ aud: STACK_URI, scp: ['model_big'] });
    assert.equal((await call(server, 'POST', '/v1/chat/completions', scp, { ...chat, model: 'big-model' })).status, 200);
  });

  test('a model without a scope mapping is denied by default', async () => {
    const r = await call(server, 'POST', '/v1/chat/completions', token('model_small model_big'), {
      model: 'unmapped',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(r.status, 403);
    assert.match(r.json.detail, /denied by default/);
  });

  test('model listings show only the models the caller may use', async () => {
    const small = token('model_small');
    const ls = (await call(server, 'GET', '/v1/models', small)).json.data.map((m) => m.identifier).sort();
    assert.deepEqual(ls, ['llama3.2:3b']);
    const openai = (await call(server, 'GET', '/v1/openai/v1/models', token('model_small model_big model_embed'))).json.data.map((m) => m.id).sort();
    assert.deepEqual(openai, ['all-minilm', 'big-model', 'llama3.2:3b']);
  });

  test('protected-resource metadata is public and the 401 challenge points to it', async () => {
    const meta = await call(server, 'GET', '/.well-known/oauth-protected-resource');
    assert.equal(meta.status, 200);
    assert.equal(meta.json.resource, STACK_URI);
    assert.deepEqual(meta.json.authorization_servers, [ISSUER]);
    assert.deepEqual(meta.json.scopes_supported, ['model_big', 'model_embed', 'model_small']);
    assert.deepEqual(meta.json.bearer_methods_supported, ['header']);
    const denied = await call(server, 'GET', '/v1/models');
    assert.equal(denied.status, 401);
    assert.match(denied.headers.get('www-authenticate'), /resource_metadata="https:\/\/stack\.test\/\.well-known\/oauth-protected-resource"/);
  });
});

test('LLAMA_STACK_OAUTH_* environment variables enable JWT auth against the auth server', async () => {
  // Our identity server publishes its keys at /jwks; point the auth server URI at a
  // path whose /.well-known/jwks.json we can't serve, and check the wiring instead:
  // a request is refused 503 (keys unavailable) rather than served without auth.
  const server = await startServer(config('    enforce_model_permissions: false', false), {
    env: {
      LLAMA_STACK_OAUTH_AUTH_SERVER_URI: idp.baseUrl,
      LLAMA_STACK_OAUTH_STACK_URI: STACK_URI,
      LLAMA_STACK_OAUTH_ENABLE_AUTH: 'true',
    },
  });
  try {
    assert.equal((await call(server, 'GET', '/v1/models')).status, 401);
    const r = await call(server, 'GET', '/v1/models', idp.sign({ aud: STACK_URI, iss: idp.baseUrl }));
    assert.equal(r.status, 503, 'JWKS expected at <auth server>/.well-known/jwks.json');
    const meta = await call(server, 'GET', '/.well-known/oauth-protected-resource');
    assert.deepEqual(meta.json.authorization_servers, [idp.baseUrl]);
  } finally {
    await server.stop();
  }
});

test('stored chat completions are owned: other users neither list nor read them', async () => {
  const server = await startServer(`
version: 2
image_name: store-owner-test
apis: [inference]
providers:
  inference:
  - {provider_id: ollama, provider_type: remote::ollama, config: {url: "${fake.baseUrl}"}}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
inference_store: {type: sqlite, db_path: "{{TMP}}/inference.db"}
models:
- {model_id: llama3.2:3b, provider_id: ollama}
server:
  auth:
    provider_type: oauth2_token
    config:
      jwks: {uri: "${idp.jwksUrl}"}
      issuer: ${ISSUER}
      audience: ${STACK_URI}
`);
  try {
    const alice = idp.sign({ aud: STACK_URI, sub: 'alice-store' });
    const bob = idp.sign({ aud: STACK_URI, sub: 'bob-store' });
    const created = await call(server, 'POST', '/v1/chat/completions', alice, {
      model: 'llama3.2:3b',
      messages: [{ role: 'user', content: 'private question' }],
    });
    assert.equal(created.status, 200);
    const id = created.json.id;
    assert.ok((await call(server, 'GET', '/v1/chat/completions', alice)).json.data.some((c) => c.id === id));
    assert.equal((await call(server, 'GET', `/v1/chat/completions/${id}`, alice)).status, 200);
    assert.ok(!(await call(server, 'GET', '/v1/chat/completions', bob)).json.data.some((c) => c.id === id));
    assert.equal((await call(server, 'GET', `/v1/chat/completions/${id}`, bob)).status, 404);
  } finally {
    await server.stop();
  }
});

test('shields and vector DBs can require a scope too', async () => {
  const server = await startServer(`
version: 2
image_name: resource-scope-test
apis: [inference, safety, vector_io]
providers:
  inference:
  - {provider_id: ollama, provider_type: remote::ollama, config: {url: "${fake.baseUrl}"}}
  safety:
  - {provider_id: llama-guard, provider_type: inline::llama-guard, config: {}}
  vector_io:
  - {provider_id: faiss, provider_type: inline::faiss, config: {kvstore: {type: sqlite, db_path: "{{TMP}}/faiss.db"}}}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
models:
- {model_id: all-minilm, provider_id: ollama, model_type: embedding, metadata: {embedding_dimension: 8}}
shields:
- {shield_id: meta-llama/Llama-Guard-3-8B, params: {required_scope: safety_admin}}
- {shield_id: meta-llama/Llama-Guard-3-1B}
vector_dbs:
- {vector_db_id: secret-docs, embedding_model: all-minilm}
- {vector_db_id: open-docs, embedding_model: all-minilm}
server:
  auth:
    provider_type: oauth2_token
    config: {jwks: {uri: "${idp.jwksUrl}"}, issuer: ${ISSUER}, audience: ${STACK_URI}}
  oauth:
    enforce_model_permissions: true
    vector_db_scope_overrides: {secret-docs: docs_reader}
`);
  try {
    const plain = idp.sign({ aud: STACK_URI, sub: 'p', scope: 'other' });
    const admin = idp.sign({ aud: STACK_URI, sub: 'a', scope: 'safety_admin docs_reader' });
    const shields = (await call(server, 'GET', '/v1/shields', plain)).json.data.map((s) => s.identifier);
    assert.deepEqual(shields, ['meta-llama/Llama-Guard-3-1B']);
    const denied = await call(server, 'GET', '/v1/shields/meta-llama/Llama-Guard-3-8B', plain);
    assert.equal(denied.status, 403);
    assert.match(denied.json.detail, /requires scope 'safety_admin'/);
    assert.equal((await call(server, 'GET', '/v1/shields/meta-llama/Llama-Guard-3-8B', admin)).status, 200);
    const dbs = (await call(server, 'GET', '/v1/vector-dbs', plain)).json.data.map((d) => d.identifier);
    assert.deepEqual(dbs, ['open-docs']);
    assert.equal((await call(server, 'GET', '/v1/vector-dbs/secret-docs', plain)).status, 403);
    assert.equal((await call(server, 'GET', '/v1/vector-dbs/secret-docs', admin)).status, 200);
  } finally {
    await server.stop();
  }
});
