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
