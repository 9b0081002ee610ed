// Authentication through the real binary: oauth2_token with JWKS (one test per
// rejection class), introspection, the custom (delegated API key) endpoint,
// the access policy, and public probe routes.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import { startServer } from '../clients/lib/server.mjs';
import { startIdentityServer, ISSUER, AUDIENCE } from '../clients/lib/identity_server.mjs';

let idp;

before(async () => {
  idp = await startIdentityServer();
});
after(async () => {
  await idp?.stop();
});

const base = (auth) => `
version: 2
image_name: auth-test
apis: [inference]
providers:
  inference:
  - {provider_id: ollama, provider_type: remote::ollama, config: {url: "http://127.0.0.1:9"}}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
models:
- {model_id: public-model, provider_id: ollama}
server:
  auth:
${auth}
`;

async function get(server, path, token, headers = {}) {
  const res = await fetch(`${server.baseUrl}${path}`, {
    headers: { ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}), ...headers },
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : null };
}

async function post(server, path, body, token) {
  const res = await fetch(`${server.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : null };
}

describe('oauth2_token with jwks', () => {
  let server;
  before(async () => {
    server = await startServer(
      base(`    provider_type: oauth2_token
    config:
      jwks: {uri: "${idp.jwksUrl}", token: jwks-reader-token, key_recheck_period: 3600}
      issuer: ${ISSUER}
      audience: ${AUDIENCE}
      claims_mapping: {sub: roles, groups: teams, scope: projects}`),
    );
  });
  after(async () => server?.stop());

  const expect401 = async (token, pattern, headers) => {
    const r = await get(server, '/v1/models', token, headers);
    assert.equal(r.status, 401, JSON.stringify(r.json));
    assert.equal(r.json.error.type, 'authentication_error');
    const challenge = r.headers.get('www-authenticate');
    assert.match(challenge, /^Bearer /);
    assert.match(challenge, /error="invalid_token"/);
    if (pattern) assert.match(r.json.detail, pattern);
    return r;
  };

  test('health and version are public; everything else needs a token', async () => {
    assert.equal((await get(server, '/v1/health')).status, 200);
    assert.equal((await get(server, '/v1/version')).status, 200);
    await expect401(undefined, /Missing or invalid Authorization header/);
    await expect401(undefined, /Missing or invalid/, { authorization: 'Basic dXNlcjpwYXNz' });
  });

  test('the JWKS request carries the configured token', async () => {
    assert.equal((await get(server, '/v1/models', idp.sign())).status, 200);
    assert.ok(idp.state.jwksAuthorization.includes('Bearer jwks-reader-token'));
  });

  for (const alg of ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA']) {
    test(`accepts ${alg}`, async () => {
      const r = await get(server, '/v1/models', idp.sign({ sub: `user-${alg}` }, { alg }));
      assert.equal(r.status, 200, JSON.stringify(r.json));
    });
  }

  test('rejects garbage, alg none, HMAC with the public key, and bad signatures', async () => {
    await expect401('not-a-jwt', /./);
    await expect401('a.b.c', /./);
    const none = idp.forge({ alg: 'none', typ: 'JWT' }, {}, () => Buffer.alloc(0)).token;
    await expect401(none, /none/i);
    const pem = idp.keys.RS256.publicKey.export({ type: 'spki', format: 'pem' });
    const hs = idp.forge({ alg: 'HS256', typ: 'JWT', kid: idp.keys.RS256.kid }, {}, (input) =>
      crypto.createHmac('sha256', pem).update(input).digest(),
    ).token;
    await expect401(hs, /HMAC/);
    const good = idp.sign();
    const tampered = good.split('.');
    tampered[1] = Buffer.from(JSON.stringify({ iss: ISSUER, aud: AUDIENCE, sub: 'root', exp: 9e9 })).toString('base64url');
    await expect401(tampered.join('.'), /signature/i);
    const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const wrongKey = idp.sign({}, { key: { ...idp.keys.RS256, privateKey: other.privateKey } });
    await expect401(wrongKey, /signature/i);
    const crit = idp.sign({}, { header: { crit: ['exp'] } });
    await expect401(crit, /crit/i);
  });

  test('rejects expired, not-yet-valid, wrong issuer, wrong or missing audience', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expect401(idp.sign({ exp: now - 3600 }), /expired/i);
    await expect401(idp.sign({ nbf: now + 3600 }), /not (yet )?valid|before/i);
    await expect401(idp.sign({ iss: 'https://evil.test' }), /issuer/i);
    await expect401(idp.sign({ aud: 'someone-else' }), /audience/i);
    await expect401(idp.sign({ aud: undefined }), /audience/i);
    assert.equal((await get(server, '/v1/models', idp.sign({ aud: ['x', AUDIENCE] }))).status, 200);
  });

  test('oversize tokens are refused without parsing', async () => {
    await expect401('x'.repeat(9000), /exceeds/);
  });

  test('unknown kid is rejected; a rotated-in key is accepted after one refetch', async () => {
    const hidden = idp.addKey('RS256', 'rotated-1', false);
    await expect401(idp.sign({}, { key: hidden }), /unknown key/);
    idp.state.published.add('rotated-1');
    // The refetch is rate-limited (10 s); wait until it is allowed again.
    let status = 401;
    for (let i = 0; i < 30 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 500));
      status = (await get(server, '/v1/models', idp.sign({ sub: `rot-${i}` }, { key: hidden }))).status;
    }
    assert.equal(status, 200);
  });

  test('the principal and mapped attributes become the owner of what the user registers', async () => {
    const token = idp.sign({ sub: 'carol', groups: ['ml'], scope: 'proj-a proj-b' });
    const r = await post(server, '/v1/models', { model_id: 'carols-model', provider_id: 'ollama' }, token);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.owner.principal, 'carol');
    assert.deepEqual(r.json.owner.attributes.roles, ['carol']);
    assert.deepEqual(r.json.owner.attributes.teams, ['ml']);
    assert.deepEqual(r.json.owner.attributes.projects, ['proj-a', 'proj-b']);
    // Default policy: another user without carol's roles/teams cannot see it.
    const dave = idp.sign({ sub: 'dave' });
    assert.equal((await get(server, '/v1/models/carols-model', dave)).status, 404);
    assert.ok(!(await get(server, '/v1/models', dave)).json.data.some((m) => m.identifier === 'carols-model'));
    assert.equal((await get(server, '/v1/models/carols-model', token)).status, 200);
    // Resources without an owner (from run.yaml) stay visible to all.
    assert.ok((await get(server, '/v1/models', dave)).json.data.some((m) => m.identifier === 'public-model'));
  });
});

describe('JWKS availability', () => {
  test('JWKS down: cold → 503; warm cache keeps accepting known tokens and keys', async () => {
    const local = await startIdentityServer();
    const server = await startServer(
      base(`    provider_type: oauth2_token
    config:
      jwks: {uri: "${local.jwksUrl}"}
      issuer: ${ISSUER}`),
    );
    try {
      local.state.down = true;
      const cold = await get(server, '/v1/models', local.sign());
      assert.equal(cold.status, 503, JSON.stringify(cold.json));
      local.state.down = false;
      // Without keys, fetches are limited to one per second (a down IdP is not
      // hammered once per request): the server recovers on its own within it.
      const token = local.sign({ sub: 'warm' });
      let status = 0;
      for (let i = 0; i < 30 && status !== 200; i++) {
        status = (await get(server, '/v1/models', token)).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(status, 200, 'recovered once the IdP is back');
      local.state.down = true;
      assert.equal((await get(server, '/v1/models', token)).status, 200, 'cached token');
      assert.equal((await get(server, '/v1/models', local.sign({ sub: 'other' }))).status, 200, 'cached keys');
    } finally {
      await server.stop();
      local.state.down = false;
      await local.stop();
    }
  });
});

describe('oauth2_token with introspection', () => {
  test('active, inactive, failing and unreachable introspection', async () => {
    const server = await startServer(
      base(`    provider_config:
      type: oauth2_token
      introspection: {url: "${idp.introspectUrl}", client_id: llama, client_secret: s3cret}`),
    );
    try {
      idp.state.introspection.set('good', { status: 200, body: { active: true, sub: 'ivan', scope: 'read', exp: Math.floor(Date.now() / 1000) + 600 } });
      idp.state.introspection.set('broken', { status: 500, body: { error: 'x' } });
      assert.equal((await get(server, '/v1/models', 'good')).status, 200);
      const call = idp.state.introspectionRequests.at(-1);
      assert.equal(call.headers.authorization, `Basic ${Buffer.from('llama:s3cret').toString('base64')}`);
      assert.equal(new URLSearchParams(call.body).get('token'), 'good');
      const inactive = await get(server, '/v1/models', 'inactive-token');
      assert.equal(inactive.status, 401);
      const failed = await get(server, '/v1/models', 'broken');
      assert.equal(failed.status, 401);
      assert.match(failed.json.detail, /Token introspection failed/);
    } finally {
      await server.stop();
    }
  });
});

describe('custom (delegated API keys)', () => {
  let server;
  before(async () => {
    server = await startServer(
      base(`    provider_type: custom
    config: {endpoint: "${idp.customUrl}"}`),
    );
  });
  after(async () => server?.stop());

  test('the endpoint receives exactly the documented payload', async () => {
    idp.state.custom = { status: 200, body: { principal: 'key-owner', attributes: { roles: ['admin'] } } };
    const r = await fetch(`${server.baseUrl}/v1/models?limit=2&tag=a&tag=b`, {
      headers: { authorization: 'Bearer my-api-key', 'X-Custom-Header': 'Value' },
    });
    assert.equal(r.status, 200);
    const call = idp.state.customRequests.at(-1).body;
    assert.deepEqual(Object.keys(call).sort(), ['api_key', 'request']);
    assert.equal(call.api_key, 'my-api-key');
    assert.deepEqual(Object.keys(call.request).sort(), ['headers', 'params', 'path']);
    assert.equal(call.request.path, '/v1/models');
    assert.equal(call.request.headers['x-custom-header'], 'Value');
    assert.equal(call.request.headers.authorization, undefined);
    assert.ok(Object.keys(call.request.headers).every((k) => k === k.toLowerCase()));
    assert.deepEqual(call.request.params, { limit: ['2'], tag: ['a', 'b'] });
  });

  test('the seed response shape (access_attributes) and no attributes at all', async () => {
    idp.state.custom = { status: 200, body: { access_attributes: { roles: ['r1'], teams: ['t1'] }, message: 'Authentication successful' } };
    let r = await post(server, '/v1/models', { model_id: 'custom-a', provider_id: 'ollama' }, 'key-a');
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(r.json.owner.attributes, { roles: ['r1'], teams: ['t1'] });
    idp.state.custom = { status: 200, body: {} };
    r = await post(server, '/v1/models', { model_id: 'custom-b', provider_id: 'ollama' }, 'key-b');
    assert.equal(r.status, 200);
    assert.equal(r.json.owner.attributes.namespaces.length, 1);
    assert.match(r.json.owner.attributes.namespaces[0], /^api-key:[0-9a-f]{16}$/);
    assert.ok(!JSON.stringify(r.json).includes('key-b'), 'the API key itself is never stored');
    // Another key does not share that namespace.
    assert.equal((await get(server, '/v1/models/custom-b', 'key-c')).status, 404);
    assert.equal((await get(server, '/v1/models/custom-b', 'key-b')).status, 200);
  });

  test('a non-200 answer is 401 "Authentication failed: <status>"; unreachable is 503', async () => {
    idp.state.custom = { status: 403, body: { error: 'nope' } };
    const r = await get(server, '/v1/models', 'bad-key');
    assert.equal(r.status, 401);
    assert.match(r.json.detail, /Authentication failed: 403/);
    idp.state.down = true;
    try {
      const down = await get(server, '/v1/models', 'any-key');
      assert.equal(down.status, 503);
    } finally {
      idp.state.down = false;
      idp.state.custom = { status: 200, body: { principal: 'api-user', attributes: { roles: ['user'] } } };
    }
  });
});

describe('access policy', () => {
  test('rules decide in order; denied reads are 404, denied writes 403', async () => {
    const server = await startServer(
      base(`    provider_type: oauth2_token
    config:
      jwks: {uri: "${idp.jwksUrl}"}
      issuer: ${ISSUER}
      claims_mapping: {sub: roles, groups: teams}
    access_policy:
    - forbid: {actions: [delete]}
      when: user with ops not in teams
      description: only ops may delete
    - permit: {actions: [create, read, delete]}
      when: user with ops in teams
    - permit: {actions: [read], resource: "model::*"}
    - forbid: {actions: [create]}`),
    );
    try {
      const ops = idp.sign({ sub: 'olga', groups: ['ops'] });
      const dev = idp.sign({ sub: 'dan', groups: ['dev'] });
      assert.equal((await post(server, '/v1/models', { model_id: 'm1', provider_id: 'ollama' }, dev)).status, 403);
      assert.equal((await post(server, '/v1/models', { model_id: 'm1', provider_id: 'ollama' }, ops)).status, 200);
      assert.equal((await get(server, '/v1/models/m1', dev)).status, 200);
      const del = await fetch(`${server.baseUrl}/v1/models/m1`, { method: 'DELETE', headers: { authorization: `Bearer ${dev}` } });
      assert.equal(del.status, 403);
      const del2 = await fetch(`${server.baseUrl}/v1/models/m1`, { method: 'DELETE', headers: { authorization: `Bearer ${ops}` } });
      assert.equal(del2.status, 200);
    } finally {
      await server.stop();
    }
  });
});
