// Compatibility tests: the official Node.js SDKs (llama-stack-client 0.2.12 and 0.7.3, openai v5)
// against the C++ server. One server is started for the whole file (and restarted once at the
// end, against the same databases, to check persistence).
//
//   LLAMA_STACK_BIN=/work/main/build/release/llama-stack npm test

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import LlamaStackClient0212, * as ls0212 from 'llama-stack-client-0212';
import LlamaStackClient073, * as ls073 from 'llama-stack-client-073';
import OpenAI, * as oai from 'openai';

import { removeTmpDir, startServer, withServerLog } from './lib/server.mjs';

const CONFIG = `
version: 2
image_name: clients-test
apis: [inference, safety, vector_io]
providers:
  inference:
  - provider_id: ollama
    provider_type: remote::ollama
    config: {url: "http://127.0.0.1:9"}
  - provider_id: vllm
    provider_type: remote::vllm
    config: {url: "http://127.0.0.1:9/v1", api_token: secret-token}
  safety:
  - provider_id: llama-guard
    provider_type: inline::llama-guard
    config: {}
  vector_io:
  - provider_id: faiss
    provider_type: inline::faiss
    config:
      kvstore: {type: sqlite, db_path: "{{TMP}}/faiss.db"}
metadata_store:
  type: sqlite
  db_path: "{{TMP}}/registry.db"
models:
- model_id: llama3.2:3b
  provider_id: ollama
- model_id: all-minilm
  provider_id: ollama
  model_type: embedding
  metadata: {embedding_dimension: 384}
shields:
- shield_id: meta-llama/Llama-Guard-3-8B
  provider_id: llama-guard
`;

const SLASH_MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const PERSIST_MODEL = 'persist/runtime-model';
const PERSIST_GONE_MODEL = 'persist/unregistered-model';

let server = null;
let tmpDir = null;
let c0212; // llama-stack-client 0.2.12
let c073; // llama-stack-client 0.7.3
let openai; // openai v5

function makeClients() {
  c0212 = new LlamaStackClient0212({ baseURL: server.baseUrl, maxRetries: 0, timeout: 10_000 });
  c073 = new LlamaStackClient073({ baseURL: server.baseUrl, maxRetries: 0, timeout: 10_000 });
  openai = new OpenAI({
    baseURL: `${server.baseUrl}/v1`,
    apiKey: 'dummy-key',
    maxRetries: 0,
    timeout: 10_000,
  });
}

const it = (name, fn) => test(name, withServerLog(() => server, fn));

// Awaits a promise that must reject with an SDK error of class `cls` and HTTP `status`.
async function expectApiError(promise, cls, status) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected a ${cls.name} (HTTP ${status}), but the call succeeded`);
  assert.equal(err.status, status, `expected HTTP ${status}, got ${err.status}: ${err.message}`);
  assert.ok(err instanceof cls, `expected ${cls.name}, got ${err.constructor?.name}: ${err.message}`);
  return err;
}

before(async () => {
  server = await startServer(CONFIG);
  tmpDir = server.tmpDir;
  makeClients();
});

after(async () => {
  if (server) await server.stop();
  await removeTmpDir(tmpDir);
});

// ---------------------------------------------------------------------------------------------
describe('llama-stack-client 0.2.12', () => {
  it('inspect.health() → {status: "OK"}', async () => {
    const health = await c0212.inspect.health();
    assert.deepEqual(health, { status: 'OK' });
  });

  it('inspect.version() → {version: string}', async () => {
    const v = await c0212.inspect.version();
    assert.equal(typeof v.version, 'string');
    assert.ok(v.version.length > 0);
  });

  it('providers.list() lists configured providers and redacts secrets', async () => {
    const providers = await c0212.providers.list();
    assert.ok(Array.isArray(providers), 'providers.list() must unwrap {data: [...]}');
    const ollama = providers.find((p) => p.provider_id === 'ollama');
    assert.ok(ollama, `ollama missing from ${JSON.stringify(providers)}`);
    assert.equal(ollama.provider_type, 'remote::ollama');
    assert.equal(ollama.api, 'inference');
    assert.equal(ollama.config.url, 'http://127.0.0.1:9');
    assert.equal(typeof ollama.health, 'object');

    const vllm = providers.find((p) => p.provider_id === 'vllm');
    assert.ok(vllm, 'vllm provider missing');
    assert.equal(vllm.provider_type, 'remote::vllm');
    assert.equal(vllm.config.api_token, '********');
    assert.equal(vllm.config.url, 'http://127.0.0.1:9/v1');
    assert.ok(!JSON.stringify(providers).includes('secret-token'), 'secret leaked in providers.list()');

    const apis = new Set(providers.map((p) => p.api));
    for (const api of ['inference', 'safety', 'vector_io']) assert.ok(apis.has(api), `no ${api} provider listed`);
    const faiss = providers.find((p) => p.provider_id === 'faiss');
    assert.equal(faiss?.provider_type, 'inline::faiss');
  });

  it('providers.retrieve("ollama")', async () => {
    const p = await c0212.providers.retrieve('ollama');
    assert.equal(p.provider_id, 'ollama');
    assert.equal(p.provider_type, 'remote::ollama');
    assert.equal(p.api, 'inference');
    assert.equal(p.config.url, 'http://127.0.0.1:9');
    assert.equal(typeof p.health, 'object');
    const v = await c0212.providers.retrieve('vllm');
    assert.equal(v.config.api_token, '********');
  });

  it('routes.list() includes GET /v1/models', async () => {
    const routes = await c0212.routes.list();
    assert.ok(Array.isArray(routes) && routes.length > 0, 'routes.list() returned nothing');
    for (const r of routes) {
      assert.equal(typeof r.route, 'string');
      assert.equal(typeof r.method, 'string');
      assert.ok(Array.isArray(r.provider_types), `provider_types missing in ${JSON.stringify(r)}`);
    }
    assert.ok(
      routes.some((r) => r.route === '/v1/models' && r.method === 'GET'),
      'no {route: "/v1/models", method: "GET"} entry',
    );
    assert.ok(routes.some((r) => r.route === '/v1/health' && r.method === 'GET'), 'no GET /v1/health entry');
  });

  it('models.list() returns Llama Stack model objects', async () => {
    const models = await c0212.models.list();
    assert.ok(Array.isArray(models), 'models.list() must unwrap {data: [...]}');
    for (const m of models) {
      assert.equal(typeof m.identifier, 'string', `identifier missing: ${JSON.stringify(m)}`);
      assert.equal(typeof m.provider_id, 'string', `provider_id missing: ${JSON.stringify(m)}`);
      assert.ok(['llm', 'embedding'].includes(m.model_type), `bad model_type: ${JSON.stringify(m)}`);
    }
    const llm = models.find((m) => m.identifier === 'llama3.2:3b');
    assert.ok(llm, 'llama3.2:3b not listed');
    assert.equal(llm.provider_id, 'ollama');
    assert.equal(llm.model_type, 'llm');
    assert.equal(llm.type, 'model');
    const emb = models.find((m) => m.identifier === 'all-minilm');
    assert.ok(emb, 'all-minilm not listed');
    assert.equal(emb.model_type, 'embedding');
    assert.equal(emb.metadata.embedding_dimension, 384);
  });

  it('models.retrieve("llama3.2:3b")', async () => {
    const m = await c0212.models.retrieve('llama3.2:3b');
    assert.equal(m.identifier, 'llama3.2:3b');
    assert.equal(m.provider_id, 'ollama');
    assert.equal(m.provider_resource_id, 'llama3.2:3b');
    assert.equal(m.model_type, 'llm');
    assert.equal(m.type, 'model');
  });

  it('models.retrieve() of an unknown model → NotFoundError 404', async () => {
    await expectApiError(c0212.models.retrieve('no-such-model'), ls0212.NotFoundError, 404);
  });

  it('models.register / retrieve (id with a slash) / unregister', async () => {
    const m = await c0212.models.register({
      model_id: SLASH_MODEL,
      provider_id: 'ollama',
      provider_model_id: 'llama3.1:8b',
    });
    assert.equal(m.identifier, SLASH_MODEL);
    assert.equal(m.provider_resource_id, 'llama3.1:8b');
    assert.equal(m.provider_id, 'ollama');
    assert.equal(m.model_type, 'llm');

    const got = await c0212.models.retrieve(SLASH_MODEL); // sent raw: /v1/models/meta-llama/Llama-3.1-8B-Instruct
    assert.equal(got.identifier, SLASH_MODEL);
    assert.equal(got.provider_resource_id, 'llama3.1:8b');
    assert.ok((await c0212.models.list()).some((x) => x.identifier === SLASH_MODEL), 'registered model not listed');

    await c0212.models.unregister(SLASH_MODEL);
    await expectApiError(c0212.models.retrieve(SLASH_MODEL), ls0212.NotFoundError, 404);
    assert.ok(
      !(await c0212.models.list()).some((x) => x.identifier === SLASH_MODEL),
      'unregistered model still listed',
    );
  });

  it('models.register of an existing id → ConflictError 409', async () => {
    await expectApiError(
      c0212.models.register({ model_id: 'llama3.2:3b', provider_id: 'ollama' }),
      ls0212.ConflictError,
      409,
    );
    // the original is untouched
    const m = await c0212.models.retrieve('llama3.2:3b');
    assert.equal(m.provider_id, 'ollama');
  });

  it('models.register against an unknown provider → NotFoundError 404', async () => {
    const err = await expectApiError(
      c0212.models.register({ model_id: 'orphan-model', provider_id: 'nope' }),
      ls0212.NotFoundError,
      404,
    );
    assert.match(err.message, /nope/, 'the error should name the unknown provider');
    await expectApiError(c0212.models.retrieve('orphan-model'), ls0212.NotFoundError, 404);
    // control: the same request against a real provider succeeds
    const ok = await c0212.models.register({ model_id: 'orphan-model', provider_id: 'ollama' });
    assert.equal(ok.provider_id, 'ollama');
    await c0212.models.unregister('orphan-model');
  });

  it('shields.list / retrieve / register', async () => {
    const shields = await c0212.shields.list();
    assert.ok(Array.isArray(shields));
    const guard = shields.find((s) => s.identifier === 'meta-llama/Llama-Guard-3-8B');
    assert.ok(guard, `Llama-Guard-3-8B missing from ${JSON.stringify(shields)}`);
    assert.equal(guard.provider_id, 'llama-guard');
    assert.equal(guard.type, 'shield');

    const one = await c0212.shields.retrieve('meta-llama/Llama-Guard-3-8B');
    assert.equal(one.identifier, 'meta-llama/Llama-Guard-3-8B');
    assert.equal(one.provider_id, 'llama-guard');

    const reg = await c0212.shields.register({
      shield_id: 'meta-llama/Llama-Guard-3-1B',
      provider_id: 'llama-guard',
    });
    assert.equal(reg.identifier, 'meta-llama/Llama-Guard-3-1B');
    assert.equal(reg.provider_id, 'llama-guard');
    assert.equal(reg.provider_resource_id, 'meta-llama/Llama-Guard-3-1B');
    assert.equal(reg.type, 'shield');

    const ids = (await c0212.shields.list()).map((s) => s.identifier);
    assert.ok(ids.includes('meta-llama/Llama-Guard-3-8B') && ids.includes('meta-llama/Llama-Guard-3-1B'), String(ids));
    const again = await c0212.shields.retrieve('meta-llama/Llama-Guard-3-1B');
    assert.equal(again.identifier, 'meta-llama/Llama-Guard-3-1B');

    await expectApiError(c0212.shields.retrieve('no/such-shield'), ls0212.NotFoundError, 404);
  });

  it('vectorDBs.register / list / retrieve / unregister', async () => {
    const db = await c0212.vectorDBs.register({ vector_db_id: 'docs', embedding_model: 'all-minilm' });
    assert.equal(db.identifier, 'docs');
    assert.equal(db.embedding_model, 'all-minilm');
    assert.equal(db.embedding_dimension, 384);
    assert.equal(db.provider_id, 'faiss');
    assert.equal(db.type, 'vector_db');

    const list = await c0212.vectorDBs.list();
    assert.ok(Array.isArray(list));
    assert.ok(list.some((d) => d.identifier === 'docs'), `docs missing from ${JSON.stringify(list)}`);

    const got = await c0212.vectorDBs.retrieve('docs');
    assert.equal(got.identifier, 'docs');
    assert.equal(got.embedding_dimension, 384);
    assert.equal(got.provider_id, 'faiss');

    await c0212.vectorDBs.unregister('docs');
    await expectApiError(c0212.vectorDBs.retrieve('docs'), ls0212.NotFoundError, 404);
    assert.ok(!(await c0212.vectorDBs.list()).some((d) => d.identifier === 'docs'), 'docs still listed');
  });
});

// ---------------------------------------------------------------------------------------------
describe('llama-stack-client 0.7.3', () => {
  it('inspect.health() → {status: "OK"}', async () => {
    assert.deepEqual(await c073.inspect.health(), { status: 'OK' });
  });

  it('inspect.version() → {version: string}', async () => {
    const v = await c073.inspect.version();
    assert.equal(typeof v.version, 'string');
    assert.ok(v.version.length > 0);
  });

  it('providers.list() / providers.retrieve()', async () => {
    const providers = await c073.providers.list();
    assert.ok(Array.isArray(providers));
    const ollama = providers.find((p) => p.provider_id === 'ollama');
    assert.equal(ollama?.provider_type, 'remote::ollama');
    const vllm = providers.find((p) => p.provider_id === 'vllm');
    assert.equal(vllm?.config?.api_token, '********');

    const one = await c073.providers.retrieve('ollama');
    assert.equal(one.provider_id, 'ollama');
    assert.equal(one.provider_type, 'remote::ollama');
  });

  it('routes.list() includes GET /v1/models', async () => {
    const routes = await c073.routes.list();
    assert.ok(Array.isArray(routes) && routes.length > 0);
    assert.ok(routes.some((r) => r.route === '/v1/models' && r.method === 'GET'));
  });

  it('models.list() returns OpenAI-shaped items', async () => {
    const models = await c073.models.list();
    assert.ok(Array.isArray(models), 'models.list() must unwrap {data: [...]}');
    for (const m of models) {
      assert.equal(typeof m.id, 'string', `id missing: ${JSON.stringify(m)}`);
      assert.equal(m.object, 'model', `object != "model": ${JSON.stringify(m)}`);
      assert.equal(typeof m.owned_by, 'string', `owned_by missing: ${JSON.stringify(m)}`);
      assert.ok(Number.isInteger(m.created), `created not an integer: ${JSON.stringify(m)}`);
    }
    const ids = models.map((m) => m.id);
    assert.ok(ids.includes('llama3.2:3b') && ids.includes('all-minilm'), String(ids));
  });

  it('models.retrieve("llama3.2:3b") returns the Llama Stack model', async () => {
    const m = await c073.models.retrieve('llama3.2:3b');
    assert.equal(m.identifier, 'llama3.2:3b');
    assert.equal(m.provider_id, 'ollama');
    assert.equal(m.model_type, 'llm');
    await expectApiError(c073.models.retrieve('no-such-model'), ls073.NotFoundError, 404);
  });

  it('shields.list() / shields.retrieve()', async () => {
    const shields = await c073.shields.list();
    assert.ok(Array.isArray(shields));
    const guard = shields.find((s) => s.identifier === 'meta-llama/Llama-Guard-3-8B');
    assert.equal(guard?.provider_id, 'llama-guard');
    const one = await c073.shields.retrieve('meta-llama/Llama-Guard-3-8B');
    assert.equal(one.identifier, 'meta-llama/Llama-Guard-3-8B');
    assert.equal(one.provider_id, 'llama-guard');
  });
});

// ---------------------------------------------------------------------------------------------
describe('openai', () => {
  it('models.list() yields OpenAI model objects including llama3.2:3b', async () => {
    const ids = [];
    for await (const m of openai.models.list()) {
      assert.equal(typeof m.id, 'string');
      assert.equal(m.object, 'model');
      assert.equal(typeof m.owned_by, 'string');
      assert.ok(Number.isInteger(m.created), `created not an integer: ${JSON.stringify(m)}`);
      ids.push(m.id);
    }
    assert.ok(ids.includes('llama3.2:3b'), `llama3.2:3b not in ${ids}`);
    assert.ok(ids.includes('all-minilm'), `all-minilm not in ${ids}`);
  });

  it('models.retrieve("llama3.2:3b")', async () => {
    const m = await openai.models.retrieve('llama3.2:3b');
    assert.ok(
      m.id === 'llama3.2:3b' || m.identifier === 'llama3.2:3b',
      `unexpected retrieve result ${JSON.stringify(m)}`,
    );
  });

  it('models.retrieve() of a percent-encoded id with a slash (openai v5 sends %2F)', async () => {
    const id = 'openai-test/slash-model';
    await c0212.models.register({ model_id: id, provider_id: 'ollama', provider_model_id: 'x:1b' });
    try {
      const m = await openai.models.retrieve(id); // GET /v1/models/openai-test%2Fslash-model
      assert.ok(m.id === id || m.identifier === id, `unexpected retrieve result ${JSON.stringify(m)}`);
    } finally {
      await c0212.models.unregister(id);
    }
  });

  it('errors carry an OpenAI-style error.message', async () => {
    const err = await expectApiError(openai.models.retrieve('no-such-model'), oai.NotFoundError, 404);
    assert.ok(!/no body/.test(err.message), `OpenAI SDK could not read body.error: ${err.message}`);
    assert.match(err.message, /no-such-model/);
  });
});

// ---------------------------------------------------------------------------------------------
describe('restart persistence', () => {
  it('models registered at run time survive a restart; unregistered ones stay gone', async () => {
    await c0212.models.register({
      model_id: PERSIST_MODEL,
      provider_id: 'vllm',
      provider_model_id: 'served/model',
      metadata: { note: 'kept' },
    });
    await c0212.models.register({ model_id: PERSIST_GONE_MODEL, provider_id: 'ollama' });
    await c0212.models.unregister(PERSIST_GONE_MODEL);
    await c0212.shields.register({
      shield_id: 'persist/shield',
      provider_id: 'llama-guard',
      provider_shield_id: 'meta-llama/Llama-Guard-3-1B',
    });

    const stopped = await server.stop();
    assert.equal(stopped.killed, false, 'server needed SIGKILL to stop');
    server = await startServer(CONFIG, { tmpDir });
    makeClients();

    const models = await c0212.models.list();
    const kept = models.find((m) => m.identifier === PERSIST_MODEL);
    assert.ok(kept, `${PERSIST_MODEL} lost across restart; have ${models.map((m) => m.identifier)}`);
    assert.equal(kept.provider_id, 'vllm');
    assert.equal(kept.provider_resource_id, 'served/model');
    assert.deepEqual(kept.metadata, { note: 'kept' });
    assert.ok(!models.some((m) => m.identifier === PERSIST_GONE_MODEL), 'unregistered model came back');
    // config models are still there (and not duplicated)
    assert.equal(models.filter((m) => m.identifier === 'llama3.2:3b').length, 1);

    const got = await c0212.models.retrieve(PERSIST_MODEL);
    assert.equal(got.provider_resource_id, 'served/model');
    const shield = await c0212.shields.retrieve('persist/shield');
    assert.equal(shield.provider_id, 'llama-guard');
    assert.equal(shield.provider_resource_id, 'meta-llama/Llama-Guard-3-1B');
  });
});
