// The deployment kit (deploy/): the Kubernetes ConfigMap's run.yaml
// validates with the real binary, and then starts against real PostgreSQL
// and Redis (the cluster JWKS replaced by a local identity provider); the
// manifests keep what the deployment guide promises (two replicas, probes on
// a public route, non-root, the guide's RBAC for anonymous JWKS access).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from '../clients/lib/yaml.mjs';

import { binaryPath, makeTmpDir, removeTmpDir, startServer } from '../clients/lib/server.mjs';
import { startIdentityServer, ISSUER } from '../clients/lib/identity_server.mjs';
import { startFakeModelServer } from '../clients/lib/fake_model_server.mjs';
import { startPostgres, startRedis } from '../clients/lib/db_servers.mjs';

const kit = new URL('../../deploy/kubernetes/', import.meta.url);
const manifests = (name) =>
  parseAllDocuments(readFileSync(new URL(name, kit), 'utf8')).map((d) => d.toJS());
const runYaml = () => manifests('configmap.yaml')[0].data['run.yaml'];

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

const env = () => ({
  POSTGRES_HOST: '127.0.0.1', POSTGRES_PORT: String(pg.port), POSTGRES_USER: 'llama', POSTGRES_PASSWORD: 'secret',
  POSTGRES_SSL_MODE: 'disable', REDIS_HOST: '127.0.0.1', REDIS_PORT: String(redis.port), REDIS_PASSWORD: redis.password,
  VLLM_URL: `${fake.baseUrl}/v1`, INFERENCE_MODEL: 'llama3.2:3b', CLUSTER_ISSUER: ISSUER, CLUSTER_AUDIENCE: 'llama-stack',
});

test('the ConfigMap run.yaml validates', async () => {
  const dir = await makeTmpDir();
  try {
    const file = path.join(dir, 'run.yaml');
    writeFileSync(file, runYaml());
    const r = spawnSync(binaryPath(), ['validate', file], { env: { ...process.env, ...env() }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /warning/i);
  } finally {
    await removeTmpDir(dir);
  }
});

test('the ConfigMap run.yaml serves on PostgreSQL and Redis with cluster-style auth', async () => {
  // The cluster's JWKS, CA and projected token, pointed at local stand-ins.
  const dir = await makeTmpDir();
  const token = path.join(dir, 'jwks-token');
  writeFileSync(token, 'projected-token\n');
  const yaml = runYaml()
    .replace('https://kubernetes.default.svc/openid/v1/jwks', idp.jwksUrl)
    .replace('/var/run/secrets/tokens/jwks', token)
    .replace(/^ *tls_cafile: .*\n/m, '');
  const server = await startServer(yaml, { tmpDir: dir, env: env() });
  try {
    assert.equal((await fetch(`${server.baseUrl}/v1/health`)).status, 200, 'probes need no token');
    assert.equal((await fetch(`${server.baseUrl}/v1/models`)).status, 401);
    const res = await fetch(`${server.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${idp.sign({ sub: 'system:serviceaccount:apps:web', aud: 'llama-stack' })}` },
      body: JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 }),
    });
    assert.equal(res.status, 200, await res.text());
    assert.ok(res.headers.get('x-ratelimit-limit-requests'), 'rate limited through Redis');
    assert.equal(idp.state.jwksAuthorization.at(-1), 'Bearer projected-token', 'the projected token file');
  } finally {
    await server.stop();
    await removeTmpDir(dir);
  }
});

test('the manifests: two replicas, probes on /v1/health, non-root, the guide RBAC', () => {
  const [deployment] = manifests('deployment.yaml');
  assert.equal(deployment.spec.replicas, 2);
  const pod = deployment.spec.template.spec;
  assert.equal(pod.securityContext.runAsNonRoot, true);
  const container = pod.containers[0];
  assert.equal(container.readinessProbe.httpGet.path, '/v1/health');
  assert.equal(container.livenessProbe.httpGet.path, '/v1/health');
  assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
  const rbac = manifests('rbac.yaml');
  const role = rbac.find((d) => d.kind === 'ClusterRole' && d.metadata.name === 'allow-anonymous-openid');
  assert.deepEqual(role.rules[0].nonResourceURLs, ['/openid/v1/jwks']);
  const binding = rbac.find((d) => d.kind === 'ClusterRoleBinding' && d.metadata.name === 'allow-anonymous-openid');
  assert.equal(binding.subjects[0].name, 'system:anonymous');
  const files = manifests('kustomization.yaml')[0].resources;
  for (const f of files) assert.ok(manifests(f).length > 0, f);
});
