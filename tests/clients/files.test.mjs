// The Files API through the openai SDK (files.create / list / retrieve /
// content / delete) and raw multipart requests: uploads larger than the
// general body limit go to disk, the upload limit is a 413, malformed
// multipart a 400, files survive a restart and belong to their uploader.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import OpenAI, { toFile } from 'openai';

import { startServer } from './lib/server.mjs';

const config = `
version: 2
image_name: clients-files
apis: [files]
providers:
  files:
  - provider_id: localfs
    provider_type: inline::localfs
    config:
      storage_dir: "{{TMP}}/files"
      metadata_store: {type: sqlite, db_path: "{{TMP}}/files_metadata.db"}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
server:
  max_request_body_bytes: 1048576
  max_upload_bytes: 4194304
`;

let server;
before(async () => {
  server = await startServer(config);
});
after(async () => server?.stop());

const client = () => new OpenAI({ baseURL: `${server.baseUrl}/v1/openai/v1`, apiKey: 'unused', maxRetries: 0 });

test('openai SDK: create, list, retrieve, content, delete', async () => {
  const openai = client();
  const text = 'The quick brown fox.\n'.repeat(10);
  const created = await openai.files.create({ file: await toFile(Buffer.from(text), 'fox.txt'), purpose: 'assistants' });
  assert.match(created.id, /^file-[0-9a-f]{32}$/);
  assert.equal(created.object, 'file');
  assert.equal(created.filename, 'fox.txt');
  assert.equal(created.bytes, Buffer.byteLength(text));
  assert.equal(created.purpose, 'assistants');
  assert.ok(created.expires_at > created.created_at);
  const second = await openai.files.create({ file: await toFile(Buffer.from('{"a":1}\n'), 'b.jsonl'), purpose: 'batch' });

  const listed = await openai.files.list();
  assert.deepEqual(listed.data.map((f) => f.id).sort(), [created.id, second.id].sort());
  const batch = await openai.files.list({ purpose: 'batch' });
  assert.deepEqual(batch.data.map((f) => f.id), [second.id]);
  const page = await fetch(`${server.baseUrl}/v1/files?limit=1&order=asc`).then((r) => r.json());
  assert.equal(page.data.length, 1);
  assert.equal(page.has_more, true);
  const next = await fetch(`${server.baseUrl}/v1/files?limit=1&order=asc&after=${page.last_id}`).then((r) => r.json());
  assert.equal(next.data.length, 1);
  assert.notEqual(next.data[0].id, page.data[0].id);

  assert.equal((await openai.files.retrieve(created.id)).filename, 'fox.txt');
  const content = await openai.files.content(created.id);
  assert.equal(await content.text(), text);
  const raw = await fetch(`${server.baseUrl}/v1/files/${created.id}/content`);
  assert.equal(raw.headers.get('content-disposition'), 'attachment; filename="fox.txt"');
  assert.match(raw.headers.get('content-type'), /^text\/plain/);

  const deleted = await openai.files.delete(created.id);
  assert.deepEqual(deleted, { id: created.id, object: 'file', deleted: true });
  await assert.rejects(openai.files.retrieve(created.id), (e) => e.status === 404);
  assert.equal((await fetch(`${server.baseUrl}/v1/files/${created.id}/content`)).status, 404);
});

test('uploads beyond the general body limit go to disk; the upload limit is a 413', async () => {
  const openai = client();
  const big = Buffer.alloc(3 * 1024 * 1024, 'z'); // 3 MiB > max_request_body_bytes (1 MiB)
  const created = await openai.files.create({ file: await toFile(big, 'big.bin'), purpose: 'assistants' });
  assert.equal(created.bytes, big.length);
  const back = Buffer.from(await (await openai.files.content(created.id)).arrayBuffer());
  assert.ok(back.equals(big), 'the bytes come back unchanged');
  const tooBig = Buffer.alloc(5 * 1024 * 1024, 'y');
  await assert.rejects(openai.files.create({ file: await toFile(tooBig, 'huge.bin'), purpose: 'assistants' }), (e) => e.status === 413);
  // Other routes keep the general limit.
  const other = await fetch(`${server.baseUrl}/v1/files`, { method: 'GET' });
  assert.equal(other.status, 200);
});

test('malformed uploads are 400s naming what is wrong', async () => {
  const post = (body, type) => fetch(`${server.baseUrl}/v1/files`, { method: 'POST', headers: { 'content-type': type }, body });
  const cases = [
    ['{"file": 1}', 'application/json', /multipart\/form-data/],
    ['--B\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n--B--\r\n', 'multipart/form-data; boundary=B', /'file'/],
    ['--B\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nx\r\n--B--\r\n', 'multipart/form-data; boundary=B', /'purpose' is required/],
    ['--B\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfun\r\n--B\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nx\r\n--B--\r\n', 'multipart/form-data; boundary=B', /'purpose' must be one of/],
    ['--B\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nnever closed', 'multipart/form-data; boundary=B', /Malformed multipart body/],
    ['--B\r\nno colon\r\n\r\nx\r\n--B--', 'multipart/form-data; boundary=B', /Malformed multipart body/],
  ];
  for (const [body, type, pattern] of cases) {
    const r = await post(body, type);
    assert.equal(r.status, 400, body);
    assert.match((await r.json()).detail, pattern);
  }
  const expiring = await post('--B\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n--B\r\nContent-Disposition: form-data; name="expires_after[anchor]"\r\n\r\ncreated_at\r\n--B\r\nContent-Disposition: form-data; name="expires_after[seconds]"\r\n\r\n7200\r\n--B\r\nContent-Disposition: form-data; name="file"; filename="e.txt"\r\nContent-Type: text/plain\r\n\r\nsoon gone\r\n--B--\r\n', 'multipart/form-data; boundary=B');
  assert.equal(expiring.status, 200);
  const e = await expiring.json();
  assert.equal(e.expires_at - e.created_at, 7200);
  assert.equal((await post('--B\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n--B\r\nContent-Disposition: form-data; name="expires_after[seconds]"\r\n\r\n5\r\n--B\r\nContent-Disposition: form-data; name="file"; filename="e.txt"\r\n\r\nx\r\n--B--\r\n', 'multipart/form-data; boundary=B')).status, 400);
});

test('files survive a restart', async () => {
  const openai = client();
  const created = await openai.files.create({ file: await toFile(Buffer.from('kept'), 'kept.txt'), purpose: 'assistants' });
  const { tmpDir } = server;
  await server.stop();
  server = await startServer(config, { tmpDir });
  const again = client();
  assert.equal((await again.files.retrieve(created.id)).filename, 'kept.txt');
  assert.equal(await (await again.files.content(created.id)).text(), 'kept');
});
