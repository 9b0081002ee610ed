// Vector IO through llama-stack-client 0.2.12 (the 0.2.x RAG line without the
// rag tool): vectorDBs.register/list/retrieve/unregister and vectorIo.insert/
// query, on inline::faiss and inline::sqlite-vec, with the fake model
// server's bag-of-words embeddings.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import LlamaStackClient0212 from 'llama-stack-client-0212';

import { startFakeModelServer } from './lib/fake_model_server.mjs';
import { startServer } from './lib/server.mjs';

let fake;
let server;

before(async () => {
  fake = await startFakeModelServer();
  server = await startServer(`
version: 2
image_name: clients-vector-io
apis: [inference, vector_io]
providers:
  inference:
  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "${fake.baseUrl}/v1"}}
  vector_io:
  - {provider_id: faiss, provider_type: inline::faiss, config: {kvstore: {type: sqlite, db_path: "{{TMP}}/faiss.db"}}}
  - {provider_id: sqlite-vec, provider_type: inline::sqlite-vec, config: {db_path: "{{TMP}}/sqlite_vec.db"}}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
models:
- {model_id: bow-embed, provider_id: vllm, model_type: embedding, metadata: {embedding_dimension: 64}}
`);
});

after(async () => {
  await server?.stop();
  await fake?.stop();
});

test('llama-stack-client 0.2.12: register a vector DB, insert chunks, query them', async () => {
  const client = new LlamaStackClient0212({ baseURL: server.baseUrl, maxRetries: 0 });
  for (const provider of ['faiss', 'sqlite-vec']) {
    const id = `docs-${provider}`;
    const db = await client.vectorDBs.register({ vector_db_id: id, embedding_model: 'bow-embed', embedding_dimension: 64, provider_id: provider });
    assert.equal(db.identifier, id);
    assert.equal(db.provider_id, provider);
    await client.vectorIo.insert({
      vector_db_id: id,
      chunks: [
        { content: 'Python lists and dictionaries', metadata: { document_id: 'py' } },
        { content: 'Go channels and goroutines', metadata: { document_id: 'go' } },
        { content: [{ type: 'text', text: 'Baking bread with yeast' }], metadata: { document_id: 'bread' } },
      ],
    });
    const r = await client.vectorIo.query({ vector_db_id: id, query: 'python dictionaries', params: { max_chunks: 2 } });
    assert.equal(r.chunks.length, 2);
    assert.equal(r.chunks[0].metadata.document_id, 'py');
    assert.equal(r.scores.length, 2);
    const k = await client.vectorIo.query({ vector_db_id: id, query: 'goroutines', params: { mode: 'keyword' } });
    assert.equal(k.chunks[0].metadata.document_id, 'go');
    assert.equal((await client.vectorDBs.retrieve(id)).embedding_dimension, 64);
  }
  const listed = await client.vectorDBs.list();
  assert.deepEqual(listed.map((d) => d.identifier).sort(), ['docs-faiss', 'docs-sqlite-vec']);
  await client.vectorDBs.unregister('docs-faiss');
  await assert.rejects(client.vectorIo.query({ vector_db_id: 'docs-faiss', query: 'x' }), (e) => e.status === 404);
});

test('llama-stack-client 0.2.12: tool groups and the RAG tool (toolRuntime.ragTool insert/query)', async () => {
  const rag = await startServer(`
version: 2
image_name: clients-rag
apis: [inference, vector_io, tool_runtime]
providers:
  inference:
  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "${fake.baseUrl}/v1"}}
  vector_io:
  - {provider_id: faiss, provider_type: inline::faiss, config: {kvstore: {type: sqlite, db_path: "{{TMP}}/faiss.db"}}}
  tool_runtime:
  - {provider_id: rag-runtime, provider_type: inline::rag-runtime, config: {}}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
models:
- {model_id: bow-embed, provider_id: vllm, model_type: embedding, metadata: {embedding_dimension: 64}}
`);
  try {
    const client = new LlamaStackClient0212({ baseURL: rag.baseUrl, maxRetries: 0 });
    await client.toolgroups.register({ toolgroup_id: 'builtin::rag', provider_id: 'rag-runtime' });
    const groups = await client.toolgroups.list();
    assert.deepEqual(groups.map((g) => g.identifier), ['builtin::rag']);
    const tools = await client.tools.list({ toolgroup_id: 'builtin::rag' });
    assert.deepEqual(tools.map((t) => t.identifier).sort(), ['insert_into_memory', 'knowledge_search']);
    await client.vectorDBs.register({ vector_db_id: 'kb', embedding_model: 'bow-embed', embedding_dimension: 64 });
    await client.toolRuntime.ragTool.insert({
      vector_db_id: 'kb',
      chunk_size_in_tokens: 128,
      documents: [
        { document_id: 'tea', content: 'Green tea is steeped at eighty degrees.', metadata: {} },
        { document_id: 'coffee', content: 'Espresso is brewed under pressure.', metadata: {} },
      ],
    });
    const result = await client.toolRuntime.ragTool.query({ content: 'how is green tea steeped', vector_db_ids: ['kb'], query_config: { max_chunks: 1 } });
    assert.match(result.content[0].text, /^knowledge_search tool found 1 chunks:/);
    assert.match(result.content[1].text, /Green tea is steeped/);
    assert.deepEqual(result.metadata.document_ids, ['tea']);
    const invoked = await client.toolRuntime.invokeTool({ tool_name: 'knowledge_search', kwargs: { query: 'espresso', vector_db_ids: ['kb'] } });
    assert.match(JSON.stringify(invoked.content), /Espresso/);
    await client.toolgroups.unregister('builtin::rag');
    assert.deepEqual(await client.toolgroups.list(), []);
  } finally {
    await rag.stop();
  }
});
