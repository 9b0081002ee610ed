// Vector IO through the real binary: /v1/vector-io/insert and /query on
// inline::faiss (flat and HNSW) and inline::sqlite-vec, with chunks embedded by the fake model
// server's bag-of-words model (bow-embed: texts sharing words are close, so
// relevance means something), persisted across restarts; vector store
// filters searched inside the index (a rare match is found, also with HNSW).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startFakeModelServer } from '../clients/lib/fake_model_server.mjs';
import { freePort, startServer } from '../clients/lib/server.mjs';

let fake;
let deadPort;

const config = () => `
version: 2
image_name: vector-io-test
apis: [inference, vector_io, files]
providers:
  inference:
  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "${fake.baseUrl}/v1"}}
  - {provider_id: down, provider_type: remote::vllm, config: {url: "http://127.0.0.1:${deadPort}/v1"}}
  vector_io:
  - provider_id: faiss
    provider_type: inline::faiss
    config: {kvstore: {type: sqlite, db_path: "{{TMP}}/faiss.db"}}
  - provider_id: faiss-hnsw
    provider_type: inline::faiss
    config: {kvstore: {type: sqlite, db_path: "{{TMP}}/faiss_hnsw.db"}, index: hnsw}
  - provider_id: sqlite-vec
    provider_type: inline::sqlite-vec
    config: {db_path: "{{TMP}}/sqlite_vec.db"}
  - provider_id: sqlite-vec-old
    provider_type: inline::sqlite_vec
    config: {db_path: "{{TMP}}/sqlite_vec_old.db"}
  files:
  - {provider_id: localfs, provider_type: inline::localfs, config: {storage_dir: "{{TMP}}/files", metadata_store: {type: sqlite, db_path: "{{TMP}}/files.db"}}}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
models:
- {model_id: bow-embed, provider_id: vllm, model_type: embedding, metadata: {embedding_dimension: 64}}
- {model_id: unreachable-embed, provider_id: down, provider_model_id: bow-embed, model_type: embedding, metadata: {embedding_dimension: 64}}
`;

const DOCS = [
  { content: 'Python is a programming language with dynamic typing and garbage collection', metadata: { document_id: 'python' } },
  { content: 'Rust has a borrow checker that enforces memory safety without garbage collection', metadata: { document_id: 'rust' } },
  { content: 'A good risotto needs arborio rice, stock and patience', metadata: { document_id: 'cooking' } },
  { content: 'Sourdough bread rises slowly with a wild yeast starter', metadata: { document_id: 'baking' } },
];

before(async () => {
  fake = await startFakeModelServer();
  deadPort = await freePort();
});
after(async () => fake?.stop());

async function call(server, method, path, body) {
  const res = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null, text };
}

const register = (server, id, provider, model = 'bow-embed') =>
  call(server, 'POST', '/v1/vector-dbs', { vector_db_id: id, embedding_model: model, embedding_dimension: 64, provider_id: provider });
const insert = (server, id, chunks) => call(server, 'POST', '/v1/vector-io/insert', { vector_db_id: id, chunks });
const query = (server, id, q, params = {}) => call(server, 'POST', '/v1/vector-io/query', { vector_db_id: id, query: q, params });
const docsOf = (r) => r.json.chunks.map((c) => c.metadata.document_id);

for (const provider of ['faiss', 'faiss-hnsw', 'sqlite-vec', 'sqlite-vec-old']) {
  describe(`vector_io provider ${provider}`, () => {
    let server;
    before(async () => {
      server = await startServer(config());
      assert.equal((await register(server, 'docs', provider)).status, 200);
      const r = await insert(server, 'docs', DOCS);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json, null);
    });
    after(async () => server?.stop());

    test('vector search ranks by meaning, best first, max_chunks and threshold honoured', async () => {
      const r = await query(server, 'docs', 'which programming language is Python', { max_chunks: 2 });
      assert.equal(r.status, 200, r.text);
      assert.equal(docsOf(r)[0], 'python');
      assert.equal(r.json.chunks.length, 2);
      assert.equal(r.json.chunks[0].content, DOCS[0].content);
      assert.equal(r.json.scores.length, 2);
      assert.ok(r.json.scores[0] >= r.json.scores[1]);
      assert.ok(r.json.chunks.every((c) => c.embedding === undefined), 'server-side embeddings are not returned');
      const three = await query(server, 'docs', 'bread', {});
      assert.equal(three.json.chunks.length, 3, 'max_chunks defaults to 3');
      assert.equal(docsOf(three)[0], 'baking');
      const strict = await query(server, 'docs', 'bread', { score_threshold: three.json.scores[0] });
      assert.deepEqual(docsOf(strict), ['baking']);
    });

    test('keyword (BM25) and hybrid modes; punctuation is never a syntax error', async () => {
      const k = await query(server, 'docs', 'borrow checker!!! "(*&^%$ AND OR NOT', { mode: 'keyword' });
      assert.equal(k.status, 200, k.text);
      assert.equal(docsOf(k)[0], 'rust'); // AND, OR, NOT are plain words (in others too)
      assert.ok(k.json.scores[0] > 0);
      const none = await query(server, 'docs', '"*&^%', { mode: 'keyword' });
      assert.equal(none.status, 200);
      assert.deepEqual(none.json.chunks, []);
      for (const ranker of [undefined, { type: 'rrf', impact_factor: 10 }, { type: 'weighted', alpha: 0.7 }]) {
        const h = await query(server, 'docs', 'garbage collection in Rust', { mode: 'hybrid', ranker });
        assert.equal(h.status, 200, h.text);
        assert.equal(docsOf(h)[0], 'rust', JSON.stringify(ranker));
        assert.ok(h.json.scores.every((s, i) => i === 0 || h.json.scores[i - 1] >= s));
      }
    });

    test('bad chunks and params are 400s naming the field', async () => {
      const cases = [
        [{ vector_db_id: 'docs', chunks: [{ content: 'ok' }, { content: 'x', embedding: [1, 2, 3] }] }, /chunks\[1\]\.embedding' has 3 values; vector DB 'docs' has dimension 64/],
        [{ vector_db_id: 'docs', chunks: [{ metadata: {} }] }, /chunks\[0\]\.content' is required/],
        [{ vector_db_id: 'docs', chunks: [{ content: 'x', metadata: 'no' }] }, /chunks\[0\]\.metadata' must be an object/],
        [{ vector_db_id: 'docs', chunks: [{ content: { type: 'video' } }] }, /chunks\[0\]\.content\.type/],
        [{ vector_db_id: 'docs' }, /chunks/],
      ];
      for (const [body, pattern] of cases) {
        const r = await call(server, 'POST', '/v1/vector-io/insert', body);
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.match(r.json.detail, pattern);
      }
      for (const [params, field] of [[{ mode: 'fuzzy' }, 'params.mode'], [{ max_chunks: 0 }, 'params.max_chunks'], [{ ranker: { type: 'x' } }, 'params.ranker.type']]) {
        const r = await query(server, 'docs', 'x', params);
        assert.equal(r.status, 400);
        assert.ok(r.json.detail.includes(field), r.json.detail);
      }
      assert.equal((await query(server, 'nope', 'x')).status, 404);
      assert.equal((await insert(server, 'nope', [{ content: 'x' }])).status, 404);
    });

    test('caller embeddings are kept and returned; identical vectors score finitely; re-insert replaces', async () => {
      assert.equal((await register(server, 'raw', provider)).status, 200);
      const v = Array.from({ length: 64 }, (_, i) => (i === 3 ? 1 : 0));
      const w = Array.from({ length: 64 }, (_, i) => (i === 9 ? 1 : 0));
      assert.equal((await insert(server, 'raw', [
        { content: 'first', embedding: v, chunk_id: 'c1' }, // no document_id: accepted
        { content: 'second', embedding: w, chunk_id: 'c2' },
      ])).status, 200);
      const r = await call(server, 'POST', '/v1/vector-io/query', { vector_db_id: 'raw', query: 'first', params: { max_chunks: 2 } });
      assert.equal(r.status, 200, r.text);
      // Replace c1 with new content on the same vector: one chunk, the new one.
      assert.equal((await insert(server, 'raw', [{ content: 'first again', embedding: v, chunk_id: 'c1' }])).status, 200);
      const k = await query(server, 'raw', 'first', { mode: 'keyword', max_chunks: 10 });
      assert.deepEqual(k.json.chunks.map((c) => c.content), ['first again']);
      assert.deepEqual(k.json.chunks[0].embedding, v);
    });

    test('a vector store filter finds a rare match inside the index, in every mode', async () => {
      const upload = async (name, text) => {
        const form = new FormData();
        form.append('purpose', 'assistants');
        form.append('file', new Blob([text]), name);
        return (await fetch(`${server.baseUrl}/v1/files`, { method: 'POST', body: form })).json();
      };
      // 20 chunks of hay that match the query well, one needle that matches it less.
      const hay = await upload('hay.txt', Array.from({ length: 400 }, (_, i) => `python garbage collection note ${i}`).join(' '));
      const needle = await upload('needle.txt', 'python is also a snake');
      const store = await call(server, 'POST', '/v1/vector_stores', { name: 'filters', provider_id: provider, embedding_model: 'bow-embed' });
      assert.equal(store.status, 200, store.text);
      const id = store.json.id;
      const chunking = { type: 'static', static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 0 } };
      const h = await call(server, 'POST', `/v1/vector_stores/${id}/files`, { file_id: hay.id, attributes: { kind: 'hay' }, chunking_strategy: chunking });
      assert.equal(h.json.status, 'completed', h.text);
      await call(server, 'POST', `/v1/vector_stores/${id}/files`, { file_id: needle.id, attributes: { kind: 'needle' } });
      const content = await call(server, 'GET', `/v1/vector_stores/${id}/files/${hay.id}/content`);
      assert.ok(content.json.data.length >= 15, `${content.json.data.length} hay chunks`);
      for (const search_mode of ['vector', 'keyword', 'hybrid']) {
        const r = await call(server, 'POST', `/v1/vector_stores/${id}/search`, {
          query: 'python garbage collection', max_num_results: 1, search_mode, filters: { type: 'eq', key: 'kind', value: 'needle' },
        });
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(r.json.data.map((d) => d.filename), ['needle.txt'], `${search_mode}: ${r.text}`);
      }
      // Deleting the hay file removes all its chunks from the index.
      assert.equal((await call(server, 'DELETE', `/v1/vector_stores/${id}/files/${hay.id}`)).status, 200);
      const left = await call(server, 'POST', `/v1/vector_stores/${id}/search`, { query: 'garbage collection note', max_num_results: 50, search_mode: 'keyword' });
      assert.deepEqual(left.json.data.map((d) => d.filename), [], left.text);
    });
  });
}

test('a query vector identical to a stored one scores finitely', async () => {
  const server = await startServer(config());
  try {
    assert.equal((await register(server, 'same', 'faiss')).status, 200);
    assert.equal((await insert(server, 'same', [{ content: 'exact words here' }])).status, 200);
    const r = await query(server, 'same', 'exact words here');
    assert.equal(r.status, 200);
    assert.equal(r.json.chunks.length, 1);
    assert.ok(Number.isFinite(r.json.scores[0]) && r.json.scores[0] > 1000, String(r.json.scores[0]));
  } finally {
    await server.stop();
  }
});

for (const provider of ['faiss', 'sqlite-vec']) test(`${provider}: chunks survive a restart; unregistering removes them`, async () => {
  let server = await startServer(config());
  const { tmpDir } = server;
  try {
    assert.equal((await register(server, 'kept', provider)).status, 200);
    assert.equal((await insert(server, 'kept', DOCS)).status, 200);
    const before = await query(server, 'kept', 'sourdough starter');
    await server.stop();
    server = await startServer(config(), { tmpDir });
    const after = await query(server, 'kept', 'sourdough starter');
    assert.equal(after.status, 200, after.text);
    assert.deepEqual(after.json, before.json);
    assert.equal((await call(server, 'DELETE', '/v1/vector-dbs/kept')).status, 200);
    assert.equal((await query(server, 'kept', 'x')).status, 404);
    assert.equal((await register(server, 'kept', provider)).status, 200);
    assert.deepEqual((await query(server, 'kept', 'sourdough starter')).json.chunks, []);
    assert.deepEqual((await query(server, 'kept', 'sourdough', { mode: 'keyword' })).json.chunks, []);
  } finally {
    await server.stop();
  }
});

test('keyword mode needs no embedding model; vector mode then fails clearly', async () => {
  const server = await startServer(config());
  try {
    assert.equal((await register(server, 'offline', 'faiss', 'unreachable-embed')).status, 200);
    const v = Array.from({ length: 64 }, (_, i) => (i === 1 ? 1 : 0));
    assert.equal((await insert(server, 'offline', [{ content: 'keyword only search', embedding: v }])).status, 200);
    const k = await query(server, 'offline', 'search', { mode: 'keyword' });
    assert.equal(k.status, 200, k.text);
    assert.equal(k.json.chunks.length, 1);
    const vec = await query(server, 'offline', 'search');
    assert.equal(vec.status, 503, vec.text);
    const noEmbedding = await insert(server, 'offline', [{ content: 'needs an embedding' }]);
    assert.equal(noEmbedding.status, 503);
  } finally {
    await server.stop();
  }
});
