// Two llama-stack replicas sharing real PostgreSQL and Redis servers: quotas
// and rate limits exact across both, registrations on one seen by the other,
// and a database restart mid-run — 503 with Retry-After while it is down,
// recovery by itself, nothing lost.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { startServer, makeTmpDir, removeTmpDir } from '../clients/lib/server.mjs';
import { startIdentityServer, ISSUER } from '../clients/lib/identity_server.mjs';
import { startFakeModelServer } from '../clients/lib/fake_model_server.mjs';
import { startPostgres, startRedis, postgresStore, redisStore } from '../clients/lib/db_servers.mjs';

let idp;
let fake;
let pg;
let redis;
before(async () => {
  idp = await startIdentityServer();
  fake = await startFakeModelServer();
  pg = await startPostgres();
  redis = await startRedis();
});
after(async () => {
  await idp?.stop();
  await fake?.stop();
  await pg?.remove();
  await redis?.remove();
});

const store = (kind, ns) =>
  kind === 'postgres' ? postgresStore(pg, `, table_name: kv_${ns}`) : redisStore(redis, `, namespace: ${ns}`);

// `quota` / `rateLimit`: {backend, limit} or null.
const config = ({ ns, quota = null, rateLimit = null, registry = 'postgres' }) => `
version: 2
image_name: replicas-test
apis: [inference, vector_io]
providers:
  inference:
  - {provider_id: ollama, provider_type: remote::ollama, config: {url: "${fake.baseUrl}"}}
  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "${fake.baseUrl}/v1"}}
  vector_io:
  - provider_id: faiss
    provider_type: inline::faiss
    config: {kvstore: ${postgresStore(pg, `, table_name: faiss_${ns}`)}}
metadata_store: ${
  registry === 'postgres'
    ? postgresStore(pg, `, table_name: registry_${ns}, refresh_interval_ms: 200`)
    : redisStore(redis, `, namespace: registry_${ns}, refresh_interval_ms: 200`)
}
models:
- {model_id: llama3.2:3b, provider_id: ollama}
- {model_id: bow-embed, provider_id: vllm, model_type: embedding, metadata: {embedding_dimension: 64}}
server:
  auth:
    provider_type: oauth2_token
    config:
      jwks: {uri: "${idp.jwksUrl}"}
      issuer: ${ISSUER}
${
  quota
    ? `  quota:
    kvstore: ${store(quota.backend, `quota_${ns}`)}
    anonymous_max_requests: 1
    authenticated_max_requests: ${quota.limit}
    period: day`
    : ''
}
${
  rateLimit
    ? `  oauth:
    enable_rate_limiting: true
    default_user_tier: shared
    rate_limit_tiers:
      shared: {requests_per_minute: ${rateLimit.limit}, tokens_per_minute: 100000000}
    rate_limit_store: ${store(rateLimit.backend, `rate_${ns}`)}`
    : ''
}
`;

const chat = { model: 'llama3.2:3b', messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 };

async function call(server, token, { method = 'POST', pathname = '/v1/chat/completions', body = chat } = {}) {
  const res = await fetch(`${server.baseUrl}${pathname}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: method === 'GET' || method === 'DELETE' ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, retryAfter: res.headers.get('retry-after'), text };
}

async function replicas(yaml, n = 2) {
  const dirs = await Promise.all(Array.from({ length: n }, () => makeTmpDir()));
  const started = await Promise.allSettled(dirs.map((tmpDir) => startServer(yaml, { tmpDir })));
  const servers = started.filter((s) => s.status === 'fulfilled').map((s) => s.value);
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(servers.map((s) => s.stop()));
    await Promise.all(dirs.map((d) => removeTmpDir(d)));
    throw failed.reason;
  }
  return {
    servers,
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
      await Promise.all(dirs.map((d) => removeTmpDir(d)));
    },
  };
}

// 2 replicas × 250 concurrent requests by one principal against a limit of 300.
async function burst(servers, token) {
  const started = Date.now();
  const results = await Promise.all(
    servers.flatMap((server) => Array.from({ length: 250 }, () => call(server, token))),
  );
  const count = (status) => results.filter((r) => r.status === status).length;
  return {
    ok: count(200),
    limited: count(429),
    other: results.filter((r) => r.status !== 200 && r.status !== 429),
    elapsedMs: Date.now() - started,
  };
}

for (const backend of ['redis', 'postgres']) {
  test(`quota on ${backend}: exactly 300 of 500 requests across two replicas`, async () => {
    const ns = `q${backend}`;
    const cluster = await replicas(config({ ns, quota: { backend, limit: 300 } }));
    try {
      const r = await burst(cluster.servers, idp.sign({ sub: `quota-${backend}` }));
      assert.deepEqual(r.other, []);
      assert.equal(r.ok, 300);
      assert.equal(r.limited, 200);
    } finally {
      await cluster.stop();
    }
  });

  test(`rate limit on ${backend}: 300 of 500 requests across two replicas, plus only what refilled`, async () => {
    const ns = `r${backend}`;
    const cluster = await replicas(config({ ns, rateLimit: { backend, limit: 300 } }));
    try {
      const r = await burst(cluster.servers, idp.sign({ sub: `rate-${backend}` }));
      assert.deepEqual(r.other, []);
      // GCRA refills 300/minute continuously, one request per 200 ms: a burst
      // gets the full 300 plus what refilled while it ran, never more (a
      // sanitizer build runs long enough to see a refill).
      const refilled = Math.floor(r.elapsedMs / 200);
      assert.ok(r.ok >= 300 && r.ok <= 300 + refilled, `admitted ${r.ok} in ${r.elapsedMs} ms`);
      assert.equal(r.ok + r.limited, 500);
    } finally {
      await cluster.stop();
    }
  });
}

async function eventually(check, what, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

for (const registry of ['postgres', 'redis']) {
  test(`registry on ${registry}: a model registered on one replica is served by the other, and its removal too`, async () => {
    const cluster = await replicas(config({ ns: `reg${registry}`, registry }));
    const [a, b] = cluster.servers;
    const token = idp.sign({ sub: 'operator' });
    try {
      const registered = await call(a, token, {
        pathname: '/v1/models',
        body: { model_id: 'shared-model', provider_id: 'ollama', provider_model_id: 'llama3.2:3b' },
      });
      assert.equal(registered.status, 200, registered.text);
      await eventually(
        async () => (await call(b, token, { method: 'GET', pathname: '/v1/models/shared-model' })).status === 200,
        'replica b sees shared-model',
      );
      const served = await call(b, token, { body: { ...chat, model: 'shared-model' } });
      assert.equal(served.status, 200, served.text);
      assert.equal((await call(b, token, { method: 'DELETE', pathname: '/v1/models/shared-model' })).status, 200);
      await eventually(
        async () => (await call(a, token, { method: 'GET', pathname: '/v1/models/shared-model' })).status === 404,
        'replica a sees the removal',
      );
    } finally {
      await cluster.stop();
    }
  });
}

test('faiss on a shared kvstore: chunks inserted on either replica are searched on both', async () => {
  const cluster = await replicas(config({ ns: 'faiss' }));
  const [a, b] = cluster.servers;
  const token = idp.sign({ sub: 'librarian' });
  const post = (server, pathname, body) => call(server, token, { pathname, body });
  try {
    const db = await post(a, '/v1/vector-dbs', {
      vector_db_id: 'shared-docs', embedding_model: 'bow-embed', embedding_dimension: 64, provider_id: 'faiss',
    });
    assert.equal(db.status, 200, db.text);
    const insert = await post(a, '/v1/vector-io/insert', {
      vector_db_id: 'shared-docs',
      chunks: [
        { content: 'Rust has a borrow checker for memory safety', metadata: { document_id: 'rust' } },
        { content: 'Sourdough bread rises with a wild yeast starter', metadata: { document_id: 'bread' } },
      ],
    });
    assert.equal(insert.status, 200, insert.text);
    const search = async (server) => {
      const r = await post(server, '/v1/vector-io/query', { vector_db_id: 'shared-docs', query: 'borrow checker memory' });
      return r.status === 200 ? JSON.parse(r.text).chunks.map((c) => c.metadata.document_id) : [];
    };
    await eventually(async () => (await search(b))[0] === 'rust', 'replica b finds the chunk inserted on a');
    // Both replicas insert at once: no chunk overwrites another's.
    const more = await Promise.all(
      [a, b].map((server, i) =>
        post(server, '/v1/vector-io/insert', {
          vector_db_id: 'shared-docs',
          chunks: [{ content: `Risotto number ${i} needs arborio rice`, metadata: { document_id: `risotto-${i}` } }],
        }),
      ),
    );
    assert.ok(more.every((r) => r.status === 200));
    for (const server of [a, b]) {
      await eventually(async () => {
        const r = await post(server, '/v1/vector-io/query', {
          vector_db_id: 'shared-docs', query: 'risotto arborio rice', params: { max_chunks: 10 },
        });
        const ids = JSON.parse(r.text).chunks.map((c) => c.metadata.document_id);
        return ids.includes('risotto-0') && ids.includes('risotto-1') && ids.includes('bread');
      }, 'every chunk on every replica');
    }
  } finally {
    await cluster.stop();
  }
});

test('the postgres-redis distribution starts against PostgreSQL and Redis', async () => {
  const yaml = readFileSync(new URL('../../distributions/postgres-redis/run.yaml', import.meta.url), 'utf8');
  const env = {
    POSTGRES_HOST: '127.0.0.1', POSTGRES_PORT: String(pg.port), POSTGRES_USER: 'llama', POSTGRES_PASSWORD: 'secret',
    POSTGRES_DB: 'llamastack', POSTGRES_SSL_MODE: 'disable',
    REDIS_HOST: '127.0.0.1', REDIS_PORT: String(redis.port), REDIS_PASSWORD: redis.password,
    OLLAMA_URL: fake.baseUrl,
  };
  const dirs = [await makeTmpDir(), await makeTmpDir()];
  const servers = [];
  try {
    for (const tmpDir of dirs) {
      servers.push(await startServer(yaml, { tmpDir, env: { ...env, SQLITE_STORE_DIR: tmpDir, FILES_DIR: `${tmpDir}/files` } }));
    }
    const [a, b] = servers;
    for (const server of servers) {
      const providers = await (await fetch(`${server.baseUrl}/v1/providers`)).json();
      assert.ok(providers.data.some((p) => p.api === 'vector_io' && p.provider_id === 'faiss'));
    }
    const registered = await fetch(`${a.baseUrl}/v1/models`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model_id: 'distro-model', provider_id: 'ollama', provider_model_id: 'llama3.2:3b' }),
    });
    assert.equal(registered.status, 200, await registered.text());
    await eventually(async () => (await fetch(`${b.baseUrl}/v1/models/distro-model`)).status === 200, 'shared registry');
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await Promise.all(dirs.map((d) => removeTmpDir(d)));
  }
});

test('a database restart mid-run: 503 with Retry-After while down, then recovery with nothing lost', async () => {
  const cluster = await replicas(
    config({ ns: 'restart', quota: { backend: 'redis', limit: 150 }, rateLimit: { backend: 'postgres', limit: 100000 } }),
  );
  const [a, b] = cluster.servers;
  const token = idp.sign({ sub: 'restarter' });
  try {
    const first = await Promise.all(Array.from({ length: 100 }, (_, i) => call(i % 2 ? a : b, token)));
    assert.ok(first.every((r) => r.status === 200));

    await redis.stop();
    const down = await Promise.all([call(a, token), call(b, token)]);
    for (const r of down) {
      assert.equal(r.status, 503, r.text);
      assert.ok(Number(r.retryAfter) > 0, 'Retry-After');
    }
    assert.equal((await fetch(`${a.baseUrl}/v1/health`)).status, 200, 'the server itself is still up');
    await redis.start();
    // The 100 counted before the outage are still there: 50 more, then 429.
    const rest = await Promise.all(Array.from({ length: 80 }, (_, i) => call(i % 2 ? a : b, token)));
    assert.equal(rest.filter((r) => r.status === 200).length, 50);
    assert.equal(rest.filter((r) => r.status === 429).length, 30);

    // PostgreSQL (registry and rate limits) restarts: inference is refused
    // while the limit store is away, then both replicas recover.
    const other = idp.sign({ sub: 'second-user' });
    await pg.stop();
    const refused = await call(a, other);
    assert.equal(refused.status, 503, refused.text);
    assert.ok(Number(refused.retryAfter) > 0);
    const registration = await call(a, other, {
      pathname: '/v1/models',
      body: { model_id: 'during-outage', provider_id: 'ollama', provider_model_id: 'llama3.2:3b' },
    });
    assert.equal(registration.status, 503, registration.text);
    await pg.start();
    await eventually(async () => (await call(a, other)).status === 200, 'replica a serves again');
    await eventually(async () => (await call(b, other)).status === 200, 'replica b serves again');
    const listed = await call(b, other, { method: 'GET', pathname: '/v1/models' });
    assert.equal(listed.status, 200);
    assert.ok(JSON.parse(listed.text).data.some((m) => m.identifier === 'llama3.2:3b'));
    assert.ok(!JSON.parse(listed.text).data.some((m) => m.identifier === 'during-outage'));
  } finally {
    await cluster.stop();
  }
});
