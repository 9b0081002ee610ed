// Identifier hygiene on every registration route (issue 15): a resource id
// with a control character, a bidirectional override or more than 256 bytes
// is a 400 naming the field — through HTTP and in run.yaml — and nothing is
// registered; ordinary ids (non-ASCII included) are accepted.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startFakeModelServer } from '../clients/lib/fake_model_server.mjs';
import { startServer, startServerExpectFailure } from '../clients/lib/server.mjs';

let fake;
let server;

const config = (extra = '') => `
version: 2
image_name: identifiers-test
apis: [inference, safety, vector_io, tool_runtime, files, agents]
providers:
  inference:
  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "${fake.baseUrl}/v1"}}
  safety:
  - {provider_id: code-scanner, provider_type: inline::code-scanner, config: {}}
  vector_io:
  - {provider_id: faiss, provider_type: inline::faiss, config: {kvstore: {type: sqlite, db_path: "{{TMP}}/faiss.db"}}}
  tool_runtime:
  - {provider_id: rag-runtime, provider_type: inline::rag-runtime, config: {}}
  files:
  - {provider_id: localfs, provider_type: inline::localfs, config: {storage_dir: "{{TMP}}/files", metadata_store: {type: sqlite, db_path: "{{TMP}}/files.db"}}}
  agents:
  - {provider_id: meta-reference, provider_type: inline::meta-reference, config: {persistence_store: {type: sqlite, db_path: "{{TMP}}/agents.db"}}}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
models:
- {model_id: bow-embed, provider_id: vllm, model_type: embedding, metadata: {embedding_dimension: 64}}
${extra}`;

before(async () => {
  fake = await startFakeModelServer();
  server = await startServer(config());
});
after(async () => {
  await server?.stop();
  await fake?.stop();
});

const post = async (path, body) => {
  const res = await fetch(`${server.baseUrl}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
};

const routes = [
  { path: '/v1/models', field: 'model_id', body: (id) => ({ model_id: id, provider_id: 'vllm' }), list: '/v1/models' },
  { path: '/v1/models', field: 'provider_model_id', body: (id) => ({ model_id: 'fine', provider_model_id: id, provider_id: 'vllm' }), list: '/v1/models' },
  { path: '/v1/shields', field: 'shield_id', body: (id) => ({ shield_id: id, provider_id: 'code-scanner' }), list: '/v1/shields' },
  { path: '/v1/vector-dbs', field: 'vector_db_id', body: (id) => ({ vector_db_id: id, embedding_model: 'bow-embed', embedding_dimension: 64 }), list: '/v1/vector-dbs' },
  { path: '/v1/toolgroups', field: 'toolgroup_id', body: (id) => ({ toolgroup_id: id, provider_id: 'rag-runtime' }), list: '/v1/toolgroups' },
];

const bad = [
  ['\u202e\u0000evil', /control character U\+0000|bidirectional formatting character U\+202E/],
  ['evil\u202egpj.exe', /bidirectional formatting character U\+202E at byte 4/],
  ['line\nbreak', /control character U\+000A at byte 4/],
  ['c1\u0085', /control character U\+0085/],
  ['x'.repeat(257), /257 bytes long \(at most 256\)/],
];

test('every registration route refuses unclean identifiers with a 400 naming the field, and registers nothing', async () => {
  for (const route of routes) {
    for (const [id, message] of bad) {
      const res = await post(route.path, route.body(id));
      assert.equal(res.status, 400, `${route.path} ${route.field} ${JSON.stringify(id)}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.detail, new RegExp(`Field '${route.field}'`));
      assert.match(res.body.detail, message);
    }
    const listed = await (await fetch(`${server.baseUrl}${route.list}`)).json();
    assert.ok(!JSON.stringify(listed).includes('evil'), JSON.stringify(listed));
  }
  // Ordinary identifiers, non-ASCII included, are fine.
  assert.equal((await post('/v1/models', { model_id: 'modèle-日本', provider_id: 'vllm' })).status, 200);
  assert.equal((await post('/v1/shields', { shield_id: 'scanner-2', provider_id: 'code-scanner', provider_shield_id: 'CodeScanner' })).status, 200);
  assert.equal((await post('/v1/vector-dbs', { vector_db_id: 'kb-ü', embedding_model: 'bow-embed', embedding_dimension: 64 })).status, 200);
  assert.equal((await post('/v1/toolgroups', { toolgroup_id: 'builtin::rag', provider_id: 'rag-runtime' })).status, 200);
});

const upload = async (filename) => {
  const form = new FormData();
  form.append('purpose', 'assistants');
  form.append('file', new Blob(['some text']), filename);
  const res = await fetch(`${server.baseUrl}/v1/openai/v1/files`, { method: 'POST', body: form });
  return { status: res.status, body: await res.json().catch(() => null) };
};

test('names that callers choose (vector stores, files, agents, sessions) are held to the same rules', async () => {
  const agent = await post('/v1/agents', { agent_config: { model: 'bow-embed', instructions: 'x', name: 'fine' } });
  assert.equal(agent.status, 200, JSON.stringify(agent.body));
  const named = [
    { field: 'name', send: (id) => post('/v1/openai/v1/vector_stores', { name: id, embedding_model: 'bow-embed', embedding_dimension: 64 }), list: '/v1/openai/v1/vector_stores' },
    { field: 'filename', send: (id) => upload(id), list: '/v1/openai/v1/files' },
    { field: 'agent_config.name', send: (id) => post('/v1/agents', { agent_config: { model: 'bow-embed', instructions: 'x', name: id } }), list: '/v1/agents' },
    { field: 'session_name', send: (id) => post(`/v1/agents/${agent.body.agent_id}/session`, { session_name: id }), list: `/v1/agents/${agent.body.agent_id}/sessions` },
  ];
  for (const route of named) {
    for (const [id, message] of bad) {
      // FormData percent-encodes a line break in a file name (a raw one would end the part's header).
      if (route.field === 'filename' && id.includes('\n')) continue;
      const res = await route.send(id);
      assert.equal(res.status, 400, `${route.field} ${JSON.stringify(id)}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.detail, new RegExp(`Field '${route.field.replace('.', '\\.')}'`));
      assert.match(res.body.detail, message);
    }
    const listed = await (await fetch(`${server.baseUrl}${route.list}`)).text();
    assert.ok(!listed.includes('evil'), `${route.list}: ${listed}`);
  }
  // And a vector store renamed to something unclean keeps its name.
  const store = await post('/v1/openai/v1/vector_stores', { name: 'kb', embedding_model: 'bow-embed', embedding_dimension: 64 });
  assert.equal(store.status, 200, JSON.stringify(store.body));
  const renamed = await post(`/v1/openai/v1/vector_stores/${store.body.id}`, { name: 'evil\u202e' });
  assert.equal(renamed.status, 400);
  const kept = await (await fetch(`${server.baseUrl}/v1/openai/v1/vector_stores/${store.body.id}`)).json();
  assert.equal(kept.name, 'kb');
  // Ordinary names, non-ASCII included, are fine.
  assert.equal((await upload('Übersicht 2026.txt')).status, 200);
  assert.equal((await post(`/v1/agents/${agent.body.agent_id}/session`, { session_name: 'séance' })).status, 200);
});

test('a run.yaml resource with an unclean identifier does not start, and says which', async () => {
  const failure = await startServerExpectFailure(config('- {model_id: "bad\\u202eid", provider_id: vllm}\n'));
  assert.notEqual(failure.code, 0);
  const output = failure.stdout + failure.stderr;
  assert.match(output, /model_id/);
  assert.match(output, /U\+202E/);
});
