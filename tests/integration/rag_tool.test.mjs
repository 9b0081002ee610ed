// Tool groups and the RAG tool (inline::rag-runtime, builtin::rag) through
// the real binary: documents as text, content items, data: URLs and http URLs
// from a local server (HTML turned into text), SSRF refusals, chunking,
// PDFs made by the test (poppler), knowledge_search's exact result layout,
// and the tool runtime routes.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';

import { makePdf } from '../clients/lib/documents.mjs';
import { startFakeModelServer } from '../clients/lib/fake_model_server.mjs';
import { startServer } from '../clients/lib/server.mjs';

let fake;
let docs; // a local web server with documents
let server; // allow_private_urls: true (the documents are on 127.0.0.1)
let strict; // the default: private addresses refused

const config = (allowPrivate) => `
version: 2
image_name: rag-test
apis: [inference, vector_io, tool_runtime]
providers:
  inference:
  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "${fake.baseUrl}/v1"}}
  vector_io:
  - {provider_id: faiss, provider_type: inline::faiss, config: {kvstore: {type: sqlite, db_path: "{{TMP}}/faiss.db"}}}
  tool_runtime:
  - {provider_id: rag-runtime, provider_type: inline::rag-runtime, config: {allow_private_urls: ${allowPrivate}, max_document_bytes: 4096}}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
models:
- {model_id: bow-embed, provider_id: vllm, model_type: embedding, metadata: {embedding_dimension: 64}}
- {model_id: llama3.2:3b, provider_id: vllm}
vector_dbs:
- {vector_db_id: kb, embedding_model: bow-embed, embedding_dimension: 64, provider_id: faiss}
tool_groups:
- {toolgroup_id: builtin::rag, provider_id: rag-runtime}
`;

before(async () => {
  fake = await startFakeModelServer();
  docs = http.createServer((req, res) => {
    if (req.url === '/page.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<html><head><title>x</title><script>var secret = 1;</script></head><body><h1>Volcanoes</h1><p>Magma rises &amp; erupts.</p></body></html>');
    } else if (req.url === '/notes.txt') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('Penguins live in the southern hemisphere.');
    } else if (req.url === '/big.txt') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('x'.repeat(10000));
    } else if (req.url === '/report.pdf') {
      res.writeHead(200, { 'content-type': 'application/pdf' });
      res.end(makePdf('Glaciers carve deep valleys'));
    } else if (req.url === '/broken.pdf') {
      res.writeHead(200, { 'content-type': 'application/pdf' });
      res.end('%PDF-1.4 this is not really a pdf');
    } else if (req.url === '/image.png') {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end('PNG');
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((r) => docs.listen(0, '127.0.0.1', r));
  server = await startServer(config(true));
  strict = await startServer(config(false));
});

after(async () => {
  await server?.stop();
  await strict?.stop();
  await new Promise((r) => docs?.close(r));
  await fake?.stop();
});

async function call(target, method, path, body) {
  const res = await fetch(`${target.baseUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null, text };
}

const docsUrl = (p) => `http://127.0.0.1:${docs.address().port}${p}`;

test('tool groups from run.yaml are listed, with the RAG tools', async () => {
  const groups = await call(server, 'GET', '/v1/toolgroups');
  assert.equal(groups.status, 200);
  assert.deepEqual(groups.json.data.map((g) => [g.identifier, g.provider_id, g.type]), [['builtin::rag', 'rag-runtime', 'tool_group']]);
  const tools = await call(server, 'GET', '/v1/tools?toolgroup_id=builtin::rag');
  assert.deepEqual(tools.json.data.map((t) => [t.identifier, t.toolgroup_id, t.type]).sort(), [
    ['insert_into_memory', 'builtin::rag', 'tool'],
    ['knowledge_search', 'builtin::rag', 'tool'],
  ]);
  const search = await call(server, 'GET', '/v1/tools/knowledge_search');
  assert.equal(search.json.parameters[0].name, 'query');
  const defs = await call(server, 'GET', '/v1/tool-runtime/list-tools?tool_group_id=builtin::rag');
  assert.equal(defs.json.data.length, 2);
  assert.equal((await call(server, 'GET', '/v1/toolgroups/nope')).status, 404);
  assert.equal((await call(server, 'GET', '/v1/tools/nope')).status, 404);
});

test('insert: text, items, data: URLs and http URLs (HTML as text); query: the exact layout', async () => {
  const r = await call(server, 'POST', '/v1/tool-runtime/rag-tool/insert', {
    vector_db_id: 'kb',
    chunk_size_in_tokens: 512,
    documents: [
      { document_id: 'text', content: 'Python is a programming language.', metadata: { author: 'ann' } },
      { document_id: 'items', content: [{ type: 'text', text: 'Rust has a borrow checker.' }] },
      { document_id: 'data', content: `data:text/plain;base64,${Buffer.from('Sourdough needs a starter.').toString('base64')}` },
      { document_id: 'page', content: { uri: docsUrl('/page.html') } },
      { document_id: 'notes', content: docsUrl('/notes.txt'), mime_type: 'text/plain' },
    ],
  });
  assert.equal(r.status, 200, r.text);
  const q = await call(server, 'POST', '/v1/tool-runtime/rag-tool/query', {
    content: 'which programming language is Python',
    vector_db_ids: ['kb'],
    query_config: { max_chunks: 2 },
  });
  assert.equal(q.status, 200, q.text);
  const items = q.json.content;
  assert.equal(items.length, 5);
  assert.deepEqual(items[0], { type: 'text', text: 'knowledge_search tool found 2 chunks:\nBEGIN of knowledge_search tool results.\n' });
  assert.equal(items[1].text, "Result 1\nContent: Python is a programming language.\nMetadata: {'author': 'ann', 'document_id': 'text'}\n");
  assert.match(items[2].text, /^Result 2\nContent: /);
  assert.equal(items[3].text, 'END of knowledge_search tool results.\n');
  assert.equal(items[4].text, 'The above results were retrieved to help answer the user\'s query: "which programming language is Python". Use them as supporting information only in answering this query.\n');
  assert.equal(q.json.metadata.document_ids[0], 'text');
  assert.equal(q.json.metadata.document_ids.length, 2);

  const html = await call(server, 'POST', '/v1/vector-io/query', { vector_db_id: 'kb', query: 'volcanoes magma', params: { mode: 'keyword', max_chunks: 1 } });
  assert.equal(html.json.chunks[0].metadata.document_id, 'page');
  assert.equal(html.json.chunks[0].content, 'Volcanoes\nMagma rises & erupts.');
  assert.equal(html.json.chunks[0].metadata.token_count, 6);
  const penguins = await call(server, 'POST', '/v1/vector-io/query', { vector_db_id: 'kb', query: 'penguins', params: { mode: 'keyword' } });
  assert.equal(penguins.json.chunks[0].metadata.document_id, 'notes');
});

test('PDF documents (poppler): by URL and as a data: URL; a broken one is a 400', async () => {
  const insert = (content, extra = {}) => call(server, 'POST', '/v1/tool-runtime/rag-tool/insert', { vector_db_id: 'kb', documents: [{ document_id: extra.id ?? 'pdf', content, ...extra.doc }] });
  assert.equal((await insert({ uri: docsUrl('/report.pdf') }, { id: 'report' })).status, 200);
  const data = `data:application/pdf;base64,${makePdf('Tundra soil stays frozen').toString('base64')}`;
  const r = await insert(data, { id: 'tundra' });
  assert.equal(r.status, 200, r.text);
  for (const [word, id] of [['glaciers', 'report'], ['tundra', 'tundra']]) {
    const q = await call(server, 'POST', '/v1/vector-io/query', { vector_db_id: 'kb', query: word, params: { mode: 'keyword', max_chunks: 1 } });
    assert.equal(q.json.chunks[0].metadata.document_id, id, word);
    assert.match(q.json.chunks[0].content, new RegExp(word, 'i'));
  }
  const broken = await insert({ uri: docsUrl('/broken.pdf') });
  assert.equal(broken.status, 400, broken.text);
  assert.match(broken.json.detail, /not a readable PDF/);
});

test('long documents become overlapping windows; the template and token budget are honoured', async () => {
  assert.equal((await call(server, 'POST', '/v1/vector-dbs', { vector_db_id: 'long', embedding_model: 'bow-embed', embedding_dimension: 64 })).status, 200);
  const words = Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ');
  assert.equal((await call(server, 'POST', '/v1/tool-runtime/rag-tool/insert', { vector_db_id: 'long', chunk_size_in_tokens: 16, documents: [{ document_id: 'd', content: words }] })).status, 200);
  const all = await call(server, 'POST', '/v1/vector-io/query', { vector_db_id: 'long', query: 'w0', params: { mode: 'keyword', max_chunks: 10 } });
  // 40 tokens, windows of 16 every 12 tokens: starts 0, 12, 24, 36.
  const q = await call(server, 'POST', '/v1/vector-io/query', { vector_db_id: 'long', query: 'w12 w13 w14 w15', params: { mode: 'keyword', max_chunks: 10 } });
  assert.equal(q.json.chunks.length, 2, 'w12…w15 are in two overlapping windows');
  assert.ok(all.json.chunks.every((c) => c.metadata.token_count <= 16));
  const shaped = await call(server, 'POST', '/v1/tool-runtime/rag-tool/query', {
    content: 'w12', vector_db_ids: ['long'],
    query_config: { chunk_template: '[{index}] {chunk.content}\n', max_tokens_in_context: 20, mode: 'keyword' },
  });
  assert.equal(shaped.status, 200, shaped.text);
  assert.match(shaped.json.content[1].text, /^\[1\] /);
  assert.equal(shaped.json.content.length, 4, 'one chunk fits the 20-token budget');
  const bad = await call(server, 'POST', '/v1/tool-runtime/rag-tool/query', { content: 'x', vector_db_ids: ['long'], query_config: { chunk_template: 'no placeholders' } });
  assert.equal(bad.status, 400);
  assert.match(bad.json.detail, /chunk_template' must contain \{chunk.content\}/);
  const none = await call(server, 'POST', '/v1/tool-runtime/rag-tool/query', { content: 'x', vector_db_ids: [] });
  assert.equal(none.status, 400);
});

test('the tool runtime invokes knowledge_search; a query with no hits has null content', async () => {
  const r = await call(server, 'POST', '/v1/tool-runtime/invoke', { tool_name: 'knowledge_search', kwargs: { query: 'borrow checker', vector_db_ids: ['kb'], query_config: { mode: 'keyword', max_chunks: 1 } } });
  assert.equal(r.status, 200, r.text);
  assert.match(r.json.content[1].text, /Rust has a borrow checker/);
  assert.deepEqual(r.json.metadata, { document_ids: ['items'] });
  const empty = await call(server, 'POST', '/v1/tool-runtime/rag-tool/query', { content: 'zzzz', vector_db_ids: ['kb'], query_config: { mode: 'keyword' } });
  assert.deepEqual(empty.json, { content: null, metadata: {} });
  assert.equal((await call(server, 'POST', '/v1/tool-runtime/invoke', { tool_name: 'nope', kwargs: {} })).status, 404);
});

test('URL documents: SSRF refusals, limits and failures are clear errors', async () => {
  const insert = (target, content, extra = {}) => call(target, 'POST', '/v1/tool-runtime/rag-tool/insert', { vector_db_id: 'kb', documents: [{ document_id: 'u', content, ...extra }] });
  for (const url of [docsUrl('/notes.txt'), 'http://localhost:9/x', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/x', 'http://10.0.0.1/x']) {
    const r = await insert(strict, url);
    assert.equal(r.status, 400, url);
    assert.match(r.json.detail, /private or local address/, url);
  }
  const file = await insert(server, 'file:///etc/passwd');
  assert.equal(file.status, 400);
  assert.match(file.json.detail, /only http\(s\) and data: URLs/);
  const big = await insert(server, docsUrl('/big.txt'));
  assert.equal(big.status, 413, big.text);
  const missing = await insert(server, docsUrl('/missing'));
  assert.equal(missing.status, 400);
  assert.match(missing.json.detail, /HTTP 404/);
  const png = await insert(server, docsUrl('/image.png'));
  assert.equal(png.status, 415);
  const noId = await call(server, 'POST', '/v1/tool-runtime/rag-tool/insert', { vector_db_id: 'kb', documents: [{ content: 'x' }] });
  assert.equal(noId.status, 400);
  assert.match(noId.json.detail, /documents\[0\]\.document_id/);
});
