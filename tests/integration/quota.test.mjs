// server.quota through the real binary: exact limits under concurrency,
// counted after authentication (per principal), persistent across restarts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startServer, makeTmpDir, removeTmpDir } from '../clients/lib/server.mjs';
import { startIdentityServer } from '../clients/lib/identity_server.mjs';

let idp;
before(async () => {
  idp = await startIdentityServer();
});
after(async () => idp?.stop());

const config = (quota, auth = '') => `
version: 2
image_name: quota-test
apis: [inference]
providers:
  inference:
  - {provider_id: ollama, provider_type: remote::ollama, config: {url: "http://127.0.0.1:9"}}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
server:
${auth}
  quota:
    kvstore: {type: sqlite, db_path: "{{TMP}}/quotas.db"}
${quota}
    period: day
`;

test('anonymous quota is exact under 500 concurrent requests and survives a restart', async () => {
  const dir = await makeTmpDir();
  const yaml = config('    anonymous_max_requests: 50\n    authenticated_max_requests: 1000');
  let server = await startServer(yaml, { tmpDir: dir });
  try {
    const results = await Promise.all(
      Array.from({ length: 500 }, () =>
        fetch(`${server.baseUrl}/v1/models`).then(async (r) => ({ status: r.status, retry: r.headers.get('retry-after'), body: await r.json() })),
      ),
    );
    const ok = results.filter((r) => r.status === 200).length;
    const limited = results.filter((r) => r.status === 429);
    assert.equal(ok, 50);
    assert.equal(limited.length, 450);
    assert.equal(limited[0].body.error.message, 'Quota exceeded');
    const retry = Number(limited[0].retry);
    assert.ok(retry > 0 && retry <= 86400, `Retry-After ${limited[0].retry}`);
    assert.equal((await fetch(`${server.baseUrl}/v1/health`)).status, 200, 'probes are not counted');
    await server.stop();
    server = await startServer(yaml, { tmpDir: dir });
    assert.equal((await fetch(`${server.baseUrl}/v1/models`)).status, 429, 'counts persist');
  } finally {
    await server.stop();
    await removeTmpDir(dir);
  }
});

test('with auth, quotas are per principal and counted after authentication', async () => {
  const server = await startServer(
    config(
      '    anonymous_max_requests: 1\n    authenticated_max_requests: 3',
      `  auth:\n    provider_type: custom\n    config: {endpoint: "${idp.customUrl}"}`,
    ),
  );
  try {
    const call = (key) =>
      fetch(`${server.baseUrl}/v1/models`, { headers: key ? { authorization: `Bearer ${key}` } : {} }).then((r) => r.status);
    idp.state.custom = { status: 200, body: { principal: 'alice', attributes: { roles: ['a'] } } };
    assert.deepEqual([await call('k1'), await call('k1'), await call('k1'), await call('k1')], [200, 200, 200, 429]);
    idp.state.custom = { status: 200, body: { principal: 'bob', attributes: { roles: ['b'] } } };
    assert.equal(await call('k2'), 200, 'bob has his own count, with the authenticated limit');
    idp.state.custom = { status: 401, body: {} };
    assert.equal(await call('stolen'), 401, 'rejected tokens are answered 401, not 429, and do not count');
    assert.equal(await call(undefined), 401);
  } finally {
    idp.state.custom = { status: 200, body: { principal: 'api-user', attributes: { roles: ['user'] } } };
    await server.stop();
  }
});
