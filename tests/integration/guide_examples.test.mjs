// The configuration guide's own examples (tests/data/guide/, copies of
// ../shared/examples): every one validates and starts, with the environment
// variables named at its top; guide-ollama.yaml runs against a fake Ollama
// and records traces (telemetry) that the 0.2.12 client reads back.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { binaryPath, startServer } from '../clients/lib/server.mjs';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'data', 'guide');

// What each example asks for at its top (URLs point nowhere: nothing is called at startup).
const ENV = {
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'example-secret',
  GUARDRAIL_VERSION: '1',
  GUARDRAIL_ID: 'gr-example',
  INFERENCE_MODEL: 'meta-llama/Llama-3.2-3B-Instruct',
  SAFETY_MODEL: 'meta-llama/Llama-Guard-3-1B',
  TOKEN: '',
};

function validate(file) {
  const r = spawnSync(binaryPath(), ['validate', path.join(dir, file)], {
    env: { ...process.env, ...ENV },
    encoding: 'utf8',
  });
  return { code: r.status, output: r.stdout + r.stderr };
}

for (const file of ['guide-custom-auth-quota.yaml', 'guide-k8s-auth.yaml', 'guide-safety-bedrock.yaml', 'guide-safety-vllm.yaml']) {
  test(`${file} validates and starts`, async () => {
    const v = validate(file);
    assert.equal(v.code, 0, v.output);
    assert.match(v.output, /valid/);
    let yaml = await readFile(path.join(dir, file), 'utf8');
    // The guide's placeholder CA path becomes a real CA file of ours.
    const caDir = await mkdtemp(path.join(os.tmpdir(), 'guide-ca-'));
    if (yaml.includes('/path/to/ca.crt')) {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt',
        '-days', '1', '-subj', '/CN=guide test CA'], { cwd: caDir, stdio: 'pipe' });
      yaml = yaml.replaceAll('/path/to/ca.crt', path.join(caDir, 'ca.crt'));
    }
    const server = await startServer(yaml, { env: ENV });
    try {
      const health = await fetch(`${server.baseUrl}/v1/health`);
      assert.equal(health.status, 200);
    } finally {
      await server.stop();
      await rm(caDir, { recursive: true, force: true });
    }
  });
}

test('guide-ollama.yaml validates and starts (its telemetry is tested in tests/clients/telemetry.test.mjs)', async () => {
  const v = validate('guide-ollama.yaml');
  assert.equal(v.code, 0, v.output);
  const state = await mkdtemp(path.join(os.tmpdir(), 'guide-ollama-'));
  const yaml = await readFile(path.join(dir, 'guide-ollama.yaml'), 'utf8');
  const server = await startServer(yaml, { env: { ...ENV, SQLITE_STORE_DIR: state } });
  try {
    assert.equal((await fetch(`${server.baseUrl}/v1/health`)).status, 200);
  } finally {
    await server.stop();
    await rm(state, { recursive: true, force: true });
  }
});
