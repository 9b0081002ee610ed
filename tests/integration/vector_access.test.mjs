// The access policy on vector DBs and tool groups through the vector IO and
// RAG routes and the vector stores: with authentication on and Llama Stack's default policy, a
// resource registered by one team is invisible (404) to another, on every
// route that reaches it — listings, insert, query, the RAG tool.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startFakeModelServer } from '../clients/lib/fake_model_server.mjs';
import { ISSUER, startIdentityServer } from '../clients/lib/identity_server.mjs';
import { startServer } from '../clients/lib/server.mjs';

let idp;
let fake;
let server;

before(async () => {
  idp = await startIdentityServer();
  fake = await startFakeModelServer();
  server = await startServer(`
version: 2
image_name: vector-access-test
apis: [inference, vector_io, tool_runtime, files]
providers:
  inference:
  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "${fake.baseUrl}/v1"}}
  vector_io:
  - {provider_id: faiss, provider_type: inline::faiss, config: {kvstore: {type: sqlite, db_path: "{{TMP}}/faiss.db"}}}
  tool_runtime:
  - {provider_id: rag-runtime, provider_type: inline::rag-runtime, config: {}}
  files:
  - {provider_id: localfs, provider_type: inline::localfs, config: {storage_dir: "{{TMP}}/files", metadata_store: {type: sqlite, db_path: "{{TMP}}/files.db"}}}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
models:
- {model_id: bow-embed, provider_id: vllm, model_type: embedding, metadata: {embedding_dimension: 64}}
server:
  auth:
    provider_type: oauth2_token
    config:
      jwks: {uri: "${idp.jwksUrl}"}
      issuer: ${ISSUER}
      claims_mapping: {groups: teams}
`);
});

after(async () => {
  await server?.stop();
  await fake?.stop();
  await idp?.stop();
});

const alice = () => idp.sign({ sub: 'alice', groups: ['red'] });
const bob = () => idp.sign({ sub: 'bob', groups: ['blue'] });

async function call(method, path, token, body) {
  const res = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null, text };
}

test("another team's vector DB and tool group do not exist for it", async () => {
  assert.equal((await call('POST', '/v1/vector-dbs', alice(), { vector_db_id: 'red-db', embedding_model: 'bow-embed', embedding_dimension: 64 })).status, 200);
  assert.equal((await call('POST', '/v1/toolgroups', alice(), { toolgroup_id: 'builtin::rag', provider_id: 'rag-runtime' })).status, 200);
  const chunk = { content: 'red team notes', metadata: { document_id: 'r1' } };
  assert.equal((await call('POST', '/v1/vector-io/insert', alice(), { vector_db_id: 'red-db', chunks: [chunk] })).status, 200);
  const own = await call('POST', '/v1/vector-io/query', alice(), { vector_db_id: 'red-db', query: 'notes' });
  assert.equal(own.status, 200, own.text);
  assert.equal(own.json.chunks.length, 1);

  // Bob: listings leave them out, direct use is 404 (not 403: nothing to learn).
  assert.deepEqual((await call('GET', '/v1/vector-dbs', bob())).json.data, []);
  assert.deepEqual((await call('GET', '/v1/toolgroups', bob())).json.data, []);
  assert.deepEqual((await call('GET', '/v1/tools', bob())).json.data, []);
  for (const [method, path, body] of [
    ['POST', '/v1/vector-io/insert', { vector_db_id: 'red-db', chunks: [chunk] }],
    ['POST', '/v1/vector-io/query', { vector_db_id: 'red-db', query: 'notes' }],
    ['GET', '/v1/vector-dbs/red-db'],
    ['GET', '/v1/toolgroups/builtin::rag'],
    ['POST', '/v1/tool-runtime/invoke', { tool_name: 'knowledge_search', kwargs: { query: 'notes', vector_db_ids: ['red-db'] } }],
    ['POST', '/v1/tool-runtime/rag-tool/query', { content: 'notes', vector_db_ids: ['red-db'] }],
  ]) {
    const r = await call(method, path, bob(), body);
    assert.equal(r.status, 404, `${method} ${path}: ${r.text}`);
  }
  // Bob's own DB works with alice's RAG group invisible to him: the RAG tool is not available.
  assert.equal((await call('POST', '/v1/vector-dbs', bob(), { vector_db_id: 'blue-db', embedding_model: 'bow-embed', embedding_dimension: 64 })).status, 200);
  const rag = await call('POST', '/v1/tool-runtime/rag-tool/query', bob(), { content: 'x', vector_db_ids: ['blue-db'] });
  assert.equal(rag.status, 404);
  assert.match(rag.json.detail, /RAG tool is not available/);
  // And alice cannot reach bob's DB through her RAG tool.
  const cross = await call('POST', '/v1/tool-runtime/rag-tool/query', alice(), { content: 'x', vector_db_ids: ['blue-db'] });
  assert.equal(cross.status, 404, cross.text);
});

test("another team's vector store and files do not exist for it", async () => {
  const form = new FormData();
  form.append('purpose', 'assistants');
  form.append('file', new Blob(['red team secret plans']), 'plans.txt');
  const uploaded = await fetch(`${server.baseUrl}/v1/files`, { method: 'POST', headers: { authorization: `Bearer ${alice()}` }, body: form });
  assert.equal(uploaded.status, 200);
  const file = await uploaded.json();
  const created = await call('POST', '/v1/vector_stores', alice(), { name: 'red', file_ids: [file.id] });
  assert.equal(created.status, 200, created.text);
  assert.equal(created.json.file_counts.completed, 1);
  const store = created.json.id;
  const own = await call('POST', `/v1/vector_stores/${store}/search`, alice(), { query: 'secret plans' });
  assert.equal(own.json.data[0].file_id, file.id);

  assert.deepEqual((await call('GET', '/v1/vector_stores', bob())).json.data, []);
  for (const [method, path, body] of [
    ['GET', `/v1/vector_stores/${store}`],
    ['POST', `/v1/vector_stores/${store}`, { name: 'mine now' }],
    ['POST', `/v1/vector_stores/${store}/search`, { query: 'secret' }],
    ['GET', `/v1/vector_stores/${store}/files`],
    ['GET', `/v1/vector_stores/${store}/files/${file.id}/content`],
    ['POST', `/v1/vector_stores/${store}/files`, { file_id: file.id }],
    ['DELETE', `/v1/vector_stores/${store}/files/${file.id}`],
    ['DELETE', `/v1/vector_stores/${store}`],
    ['POST', '/v1/vector-io/query', { vector_db_id: store, query: 'secret' }],
  ]) {
    const r = await call(method, path, bob(), body);
    assert.equal(r.status, 404, `${method} ${path}: ${r.text}`);
  }
  // Bob's own store cannot read alice's file: it is failed, not indexed.
  const theirs = await call('POST', '/v1/vector_stores', bob(), { name: 'blue', file_ids: [file.id] });
  assert.equal(theirs.status, 200, theirs.text);
  assert.equal(theirs.json.file_counts.failed, 1);
  const files = await call('GET', `/v1/vector_stores/${theirs.json.id}/files`, bob());
  assert.match(files.json.data[0].last_error.message, /not found/);
  assert.equal((await call('GET', `/v1/vector_stores/${store}`, alice())).json.name, 'red');
});
