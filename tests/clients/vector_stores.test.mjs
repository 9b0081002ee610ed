// OpenAI vector stores through the openai SDK and llama-stack-client 0.7.3:
// files uploaded and attached (text, Markdown, HTML, PDF made by the test),
// search with relevance that means something (the fake model server's
// bag-of-words embeddings), typed attribute filters, keyword and hybrid
// modes, file content, attribute updates, deletes that remove chunks, exact
// file counts, failing files, file batches (poll, cancel), restart
// persistence on inline::faiss and inline::sqlite-vec.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import LlamaStackClient073 from 'llama-stack-client-073';
import OpenAI, { toFile } from 'openai';

import { makePdf } from './lib/documents.mjs';
import { startFakeModelServer } from './lib/fake_model_server.mjs';
import { startServer, withServerLog } from './lib/server.mjs';

let fake;
let server;

const config = (rewrite = true) => `
version: 2
image_name: clients-vector-stores
apis: [inference, vector_io, files]
providers:
  inference:
  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "${fake.baseUrl}/v1"}}
  vector_io:
  - {provider_id: faiss, provider_type: inline::faiss, config: {kvstore: {type: sqlite, db_path: "{{TMP}}/faiss.db"}}}
  - {provider_id: sqlite-vec, provider_type: inline::sqlite-vec, config: {db_path: "{{TMP}}/sqlite_vec.db"}}
  files:
  - provider_id: localfs
    provider_type: inline::localfs
    config:
      storage_dir: "{{TMP}}/files"
      metadata_store: {type: sqlite, db_path: "{{TMP}}/files_metadata.db"}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
models:
- {model_id: bow-embed, provider_id: vllm, model_type: embedding, metadata: {embedding_dimension: 64}}
- {model_id: llama3.2:3b, provider_id: vllm, model_type: llm}
vector_stores:
  default_provider_id: faiss
  default_embedding_model: bow-embed
  max_concurrent_files_per_batch: 1
${rewrite ? '  rewrite_query_params: {model: llama3.2:3b, prompt: "Rewrite: {query}"}' : ''}
`;

before(async () => {
  fake = await startFakeModelServer();
  server = await startServer(config());
});

after(async () => {
  await server?.stop();
  await fake?.stop();
});

const openai = () =>
  new OpenAI({ baseURL: `${server.baseUrl}/v1/openai/v1`, apiKey: 'unused', maxRetries: 0 });

async function upload(client, name, body) {
  return client.files.create({ file: await toFile(Buffer.from(body), name), purpose: 'assistants' });
}

async function post(path, body) {
  const r = await fetch(`${server.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

const documents = {
  'python.txt': 'Python lists and dictionaries hold values. A Python dictionary maps keys to values.',
  'go.md': '# Go\n\nGo channels and goroutines make concurrency simple.',
  'bread.html':
    '<html><head><title>Baking</title><style>p{color:red}</style></head><body><p>Baking bread with yeast and flour.</p></body></html>',
};

test('openai SDK: create a store from files, search it, filter, read and delete its files', withServerLog(() => server, async () => {
  const client = openai();
  const files = {};
  for (const [name, body] of Object.entries(documents)) files[name] = await upload(client, name, body);
  files['report.pdf'] = await upload(client, 'report.pdf', makePdf('Quarterly revenue grew in the northern region'));

  const store = await client.vectorStores.create({
    name: 'docs',
    file_ids: Object.values(files).map((f) => f.id),
    metadata: { team: 'ml' },
  });
  assert.match(store.id, /^vs_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(store.object, 'vector_store');
  assert.equal(store.name, 'docs');
  assert.equal(store.status, 'completed');
  assert.deepEqual(store.file_counts, { in_progress: 0, completed: 4, failed: 0, cancelled: 0, total: 4 });
  assert.equal(store.metadata.team, 'ml');
  assert.equal(store.metadata.provider_id, 'faiss');
  const totalBytes = Object.values(files).reduce((n, f) => n + f.bytes, 0);
  assert.equal(store.usage_bytes, totalBytes);

  // Relevance: each query's own document ranks first, filename filled in.
  for (const [query, name] of [
    ['python dictionaries', 'python.txt'],
    ['goroutines and channels', 'go.md'],
    ['bread yeast', 'bread.html'],
    ['quarterly revenue', 'report.pdf'],
  ]) {
    const found = await client.vectorStores.search(store.id, { query, max_num_results: 2 });
    assert.equal(found.data[0].filename, name, `${query} → ${JSON.stringify(found.data)}`);
    assert.equal(found.data[0].file_id, files[name].id);
    assert.equal(found.data[0].content[0].type, 'text');
    assert.ok(found.data[0].score > 0);
  }
  const raw = await post(`/v1/vector_stores/${store.id}/search`, { query: 'python', max_num_results: 1 });
  assert.equal(raw.status, 200);
  assert.equal(raw.body.object, 'vector_store.search_results.page');
  assert.deepEqual(raw.body.search_query, ['python']);
  assert.equal(raw.body.has_more, false);
  assert.equal(raw.body.next_page, null);
  // rewrite_query: the configured model rewrites the query through the inference router.
  const rewritten = await post(`/v1/vector_stores/${store.id}/search`, { query: 'python dictionaries', rewrite_query: true });
  assert.equal(rewritten.status, 200, JSON.stringify(rewritten.body));
  assert.deepEqual(rewritten.body.search_query, ['Hello from llama3.2:3b! You said: Rewrite: python dictionaries']);
  assert.equal(rewritten.body.data[0].filename, 'python.txt');
  const html = await client.vectorStores.search(store.id, { query: 'bread', max_num_results: 1 });
  assert.doesNotMatch(html.data[0].content[0].text, /<p>|color:red/, 'HTML is stripped to text');

  // Attributes and typed filters; an attribute update applies to search at once.
  await client.vectorStores.files.update(files['python.txt'].id, { vector_store_id: store.id, attributes: { lang: 'python', year: 2024 } });
  await client.vectorStores.files.update(files['go.md'].id, { vector_store_id: store.id, attributes: { lang: 'go', year: 2021 } });
  const onlyGo = await client.vectorStores.search(store.id, {
    query: 'python dictionaries',
    filters: { type: 'eq', key: 'lang', value: 'go' },
  });
  assert.deepEqual([...new Set(onlyGo.data.map((d) => d.filename))], ['go.md']);
  assert.deepEqual(onlyGo.data[0].attributes, { lang: 'go', year: 2021 });
  const recent = await client.vectorStores.search(store.id, {
    query: 'python go',
    filters: { type: 'and', filters: [{ type: 'gte', key: 'year', value: 2022 }, { type: 'ne', key: 'lang', value: 'go' }] },
  });
  assert.deepEqual([...new Set(recent.data.map((d) => d.filename))], ['python.txt']);
  const either = await client.vectorStores.search(store.id, {
    query: 'values',
    filters: { type: 'or', filters: [{ type: 'lt', key: 'year', value: 2022 }, { type: 'eq', key: 'lang', value: 'python' }] },
    max_num_results: 10,
  });
  assert.deepEqual([...new Set(either.data.map((d) => d.filename))].sort(), ['go.md', 'python.txt']);
  for (const filters of [
    { type: 'like', key: 'lang', value: 'go' },
    { type: 'eq', key: 'lang' },
    { type: 'and', filters: 'nope' },
    { type: 'gt', key: 'year', value: { nested: 1 } },
  ]) {
    const bad = await post(`/v1/vector_stores/${store.id}/search`, { query: 'go', filters });
    assert.equal(bad.status, 400, JSON.stringify(filters));
    assert.match(JSON.stringify(bad.body), /filters/);
  }

  // Keyword and hybrid modes.
  const keyword = await client.vectorStores.search(store.id, { query: 'goroutines!!! (concurrency)', search_mode: 'keyword' });
  assert.equal(keyword.data[0].filename, 'go.md');
  const hybrid = await client.vectorStores.search(store.id, {
    query: 'yeast',
    search_mode: 'hybrid',
    ranking_options: { ranker: 'weighted', alpha: 0.5 },
  });
  assert.equal(hybrid.data[0].filename, 'bread.html');
  assert.equal((await post(`/v1/vector_stores/${store.id}/search`, { query: 'x', search_mode: 'fuzzy' })).status, 400);
  assert.equal((await post(`/v1/vector_stores/${store.id}/search`, { query: 'x', max_num_results: 0 })).status, 400);

  // Files: list (status filter, cursors), retrieve, content.
  const listed = await client.vectorStores.files.list(store.id);
  assert.equal(listed.data.length, 4);
  assert.ok(listed.data.every((f) => f.object === 'vector_store.file' && f.status === 'completed'));
  const page = await fetch(`${server.baseUrl}/v1/vector_stores/${store.id}/files?limit=2&order=asc`).then((r) => r.json());
  assert.equal(page.data.length, 2);
  assert.equal(page.has_more, true);
  const rest = await fetch(`${server.baseUrl}/v1/vector_stores/${store.id}/files?limit=2&order=asc&after=${page.last_id}`).then((r) => r.json());
  assert.equal(rest.data.length, 2);
  assert.equal(rest.has_more, false);
  assert.deepEqual([...page.data, ...rest.data].map((f) => f.id).sort(), Object.values(files).map((f) => f.id).sort());
  assert.equal((await client.vectorStores.files.list(store.id, { filter: 'failed' })).data.length, 0);
  const retrieved = await client.vectorStores.files.retrieve(files['python.txt'].id, { vector_store_id: store.id });
  assert.deepEqual(retrieved.attributes, { lang: 'python', year: 2024 });
  assert.deepEqual(retrieved.chunking_strategy, { type: 'static', static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 } });
  const content = await fetch(`${server.baseUrl}/v1/vector_stores/${store.id}/files/${files['python.txt'].id}/content`).then((r) => r.json());
  assert.equal(content.object, 'vector_store.file_content.page');
  assert.equal(content.data.map((c) => c.text).join(''), documents['python.txt']);
  assert.equal(content.filename, 'python.txt');

  // Delete a file: its chunks leave the index, the counts follow.
  const deleted = await client.vectorStores.files.delete(files['python.txt'].id, { vector_store_id: store.id });
  assert.deepEqual(deleted, { id: files['python.txt'].id, object: 'vector_store.file.deleted', deleted: true });
  const after = await client.vectorStores.search(store.id, { query: 'python dictionaries', max_num_results: 10 });
  assert.ok(after.data.every((d) => d.filename !== 'python.txt'), JSON.stringify(after.data));
  const counted = await client.vectorStores.retrieve(store.id);
  assert.deepEqual(counted.file_counts, { in_progress: 0, completed: 3, failed: 0, cancelled: 0, total: 3 });
  assert.equal(counted.usage_bytes, totalBytes - files['python.txt'].bytes);

  // Store update, list, delete.
  const renamed = await client.vectorStores.update(store.id, { name: 'renamed', metadata: { team: 'infra' } });
  assert.equal(renamed.name, 'renamed');
  assert.equal(renamed.metadata.team, 'infra');
  const second = await client.vectorStores.create({ name: 'second', provider_id: 'sqlite-vec' });
  assert.equal(second.metadata.provider_id, 'sqlite-vec');
  const stores = await client.vectorStores.list();
  assert.deepEqual(stores.data.map((s) => s.id), [second.id, store.id], 'newest first');
  const gone = await client.vectorStores.delete(second.id);
  assert.deepEqual(gone, { id: second.id, object: 'vector_store.deleted', deleted: true });
  await assert.rejects(client.vectorStores.retrieve(second.id), (e) => e.status === 404);
  await assert.rejects(client.vectorStores.search(second.id, { query: 'x' }), (e) => e.status === 404);
}));

test('a failing file is failed with last_error; the store and its other files stay', withServerLog(() => server, async () => {
  const client = openai();
  const good = await upload(client, 'notes.txt', 'Rust ownership and borrowing rules.');
  const image = await upload(client, 'photo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]));
  const empty = await upload(client, 'empty.txt', '   ');
  const store = await client.vectorStores.create({ name: 'mixed', file_ids: [good.id, 'file-doesnotexist', image.id, empty.id] });
  assert.deepEqual(store.file_counts, { in_progress: 0, completed: 1, failed: 3, cancelled: 0, total: 4 });
  const failed = await client.vectorStores.files.list(store.id, { filter: 'failed' });
  const errors = Object.fromEntries(failed.data.map((f) => [f.id, f.last_error]));
  assert.equal(errors['file-doesnotexist'].code, 'server_error');
  assert.match(errors['file-doesnotexist'].message, /not found/);
  assert.match(errors[image.id].message, /image\/png/);
  assert.match(errors[empty.id].message, /No chunks/);
  const found = await client.vectorStores.search(store.id, { query: 'rust borrowing' });
  assert.equal(found.data[0].file_id, good.id);
  // Attaching again returns the recorded file; a bad chunking strategy is a 400.
  const again = await client.vectorStores.files.create(store.id, { file_id: good.id });
  assert.equal(again.status, 'completed');
  const bad = await post(`/v1/vector_stores/${store.id}/files`, {
    file_id: good.id,
    chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 50, chunk_overlap_tokens: 10 } },
  });
  assert.equal(bad.status, 400);
  assert.match(JSON.stringify(bad.body), /max_chunk_size_tokens/);
  const tooMany = await post(`/v1/vector_stores/${store.id}/files`, {
    file_id: good.id,
    attributes: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i])),
  });
  assert.equal(tooMany.status, 400);
}));

test('file batches: create and poll, list files; cancel stops the files not yet started', withServerLog(() => server, async () => {
  const client = openai();
  const store = await client.vectorStores.create({ name: 'batches' });
  const ids = [];
  for (let i = 0; i < 3; i++) ids.push((await upload(client, `doc${i}.txt`, `Document number ${i} about topic${i}.`)).id);
  const batch = await client.vectorStores.fileBatches.createAndPoll(store.id, { file_ids: ids, attributes: { source: 'batch' } });
  assert.match(batch.id, /^batch_/);
  assert.equal(batch.object, 'vector_store.file_batch');
  assert.equal(batch.status, 'completed');
  assert.deepEqual(batch.file_counts, { in_progress: 0, completed: 3, failed: 0, cancelled: 0, total: 3 });
  const inBatch = await client.vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: store.id });
  assert.deepEqual(inBatch.data.map((f) => f.id).sort(), [...ids].sort());
  assert.ok(inBatch.data.every((f) => f.attributes.source === 'batch'));
  const found = await client.vectorStores.search(store.id, { query: 'topic1', search_mode: 'keyword' });
  assert.equal(found.data[0].filename, 'doc1.txt');
  await assert.rejects(client.vectorStores.fileBatches.cancel(batch.id, { vector_store_id: store.id }), (e) => e.status === 400);

  // Slow embeddings and one file at a time: cancelling leaves the rest cancelled.
  const slow = [];
  for (let i = 0; i < 5; i++) slow.push((await upload(client, `slow${i}.txt`, `Slow document ${i}.`)).id);
  await fake.control({ latency_ms: 700 });
  try {
    const started = await client.vectorStores.fileBatches.create(store.id, { file_ids: slow });
    assert.equal(started.status, 'in_progress');
    assert.equal(started.file_counts.total, 5);
    const cancelled = await client.vectorStores.fileBatches.cancel(started.id, { vector_store_id: store.id });
    assert.equal(cancelled.status, 'cancelled');
    assert.ok(cancelled.file_counts.cancelled >= 4, JSON.stringify(cancelled.file_counts));
    let settled;
    for (let i = 0; i < 50; i++) {
      settled = await client.vectorStores.fileBatches.retrieve(started.id, { vector_store_id: store.id });
      if (settled.file_counts.in_progress === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(settled.status, 'cancelled');
    assert.equal(settled.file_counts.in_progress, 0);
    assert.equal(settled.file_counts.cancelled + settled.file_counts.completed, 5);
  } finally {
    await fake.reset();
  }
}));

test('llama-stack-client 0.7.3: vector stores, files, search, file content', withServerLog(() => server, async () => {
  const client = new LlamaStackClient073({ baseURL: server.baseUrl, maxRetries: 0 });
  const file = await client.files.create({ file: await toFile(Buffer.from(documents['go.md']), 'go.md'), purpose: 'assistants' });
  const store = await client.vectorStores.create({ name: 'lsc', embedding_model: 'bow-embed', provider_id: 'sqlite-vec' });
  const attached = await client.vectorStores.files.create(store.id, { file_id: file.id, attributes: { kind: 'lang' } });
  assert.equal(attached.status, 'completed');
  const found = await client.vectorStores.search(store.id, { query: ['goroutines', 'channels'] });
  assert.deepEqual(found.search_query, ['goroutines', 'channels']);
  assert.equal(found.data[0].file_id, file.id);
  assert.deepEqual(found.data[0].attributes, { kind: 'lang' });
  const content = await client.vectorStores.files.content(store.id, file.id, { include_metadata: true });
  assert.equal(content.object, 'vector_store.file_content.page');
  assert.equal(content.data[0].metadata.file_id, file.id);
  assert.equal(content.data[0].chunk_metadata.document_id, file.id);
  const pages = [];
  for await (const s of client.vectorStores.list({ limit: 1 })) pages.push(s.id);
  assert.ok(pages.includes(store.id));
}));

test('vector stores and their files survive a restart, on faiss and sqlite-vec', async () => {
  const client = openai();
  const stores = {};
  for (const provider of ['faiss', 'sqlite-vec']) {
    const f = await upload(client, `${provider}.txt`, `Persistent notes about ${provider} storage engines.`);
    stores[provider] = await client.vectorStores.create({ name: `persist-${provider}`, file_ids: [f.id], provider_id: provider });
    await client.vectorStores.files.update(f.id, { vector_store_id: stores[provider].id, attributes: { p: provider } });
  }
  const { tmpDir } = server;
  await server.stop();
  server = await startServer(config(false), { tmpDir });
  const again = openai();
  const norewrite = await post(`/v1/vector_stores/${stores.faiss.id}/search`, { query: 'x', rewrite_query: true });
  assert.equal(norewrite.status, 400);
  assert.match(norewrite.body.detail, /rewrite_query_params/);
  for (const provider of ['faiss', 'sqlite-vec']) {
    const s = await again.vectorStores.retrieve(stores[provider].id);
    assert.equal(s.name, `persist-${provider}`);
    assert.equal(s.file_counts.completed, 1);
    const all = await again.vectorStores.search(s.id, { query: 'storage engines' });
    assert.equal(all.data[0]?.filename, `${provider}.txt`, JSON.stringify(all.data));
    const found = await again.vectorStores.search(s.id, { query: 'storage engines', filters: { type: 'eq', key: 'p', value: provider } });
    assert.equal(found.data[0]?.filename, `${provider}.txt`, JSON.stringify(found.data));
  }
});
