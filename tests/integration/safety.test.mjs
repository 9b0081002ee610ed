// Safety through the real binary: POST /v1/safety/run-shield with
// inline::llama-guard, whose guard model is a registered LLM served by the
// fake model server (which answers Llama Guard prompts: see its README).
import assert from 'node:assert/strict';
import {after, before, test} from 'node:test';

import {startFakeModelServer} from '../clients/lib/fake_model_server.mjs';
import {freePort, startServer} from '../clients/lib/server.mjs';

let fake;
let server;
let excluding;

function config(fakeUrl, deadPort, excluded = []) {
  return `
version: 2
image_name: safety-test
apis: [inference, safety]
providers:
  inference:
  - provider_id: vllm
    provider_type: remote::vllm
    config: {url: "${fakeUrl}/v1"}
  - provider_id: down
    provider_type: remote::vllm
    config: {url: "http://127.0.0.1:${deadPort}/v1"}
  safety:
  - provider_id: llama-guard
    provider_type: inline::llama-guard
    config: {excluded_categories: [${excluded.join(', ')}]${excluded.length ? ', logprobs: false' : ''}}
  - provider_id: code-scanner
    provider_type: inline::code-scanner
    config: {}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
${excluded.length ? 'safety: {default_shield_id: llama-guard, max_input_chars: 1000}' : ''}
inference_store: {type: sqlite, db_path: "{{TMP}}/inference_store.db"}
models:
- {model_id: meta-llama/Llama-Guard-3-8B, provider_id: vllm, provider_model_id: llama3.2:3b}
- {model_id: guard-down, provider_id: down, provider_model_id: llama3.2:3b}
shields:
- {shield_id: llama-guard, provider_id: llama-guard, provider_shield_id: meta-llama/Llama-Guard-3-8B}
- {shield_id: guard-down, provider_id: llama-guard, provider_shield_id: guard-down}
- {shield_id: guard-missing, provider_id: llama-guard, provider_shield_id: no-such-model}
- {shield_id: code-scanner, provider_id: code-scanner, provider_shield_id: CodeScanner}
`;
}

before(async () => {
  fake = await startFakeModelServer();
  const deadPort = await freePort();
  server = await startServer(config(fake.baseUrl, deadPort));
  excluding = await startServer(config(fake.baseUrl, deadPort, ['S1']));
});

after(async () => {
  await server?.stop();
  await excluding?.stop();
  await fake?.stop();
});

async function runShield(target, body) {
  const res = await fetch(`${target.baseUrl}/v1/safety/run-shield`, {
    method: 'POST',
    headers: {'content-type': 'application/json'},
    body: JSON.stringify(body),
  });
  return {status: res.status, json: await res.json()};
}

const user = (content) => ({role: 'user', content});

test('a safe conversation has no violation', async () => {
  const r = await runShield(server, {
    shield_id: 'llama-guard',
    messages: [user('hello there'), {role: 'assistant', content: [{type: 'text', text: 'hi!'}]}],
    params: {},
  });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.deepEqual(r.json, {violation: null});
});

test('an unsafe verdict is an error violation with the categories', async () => {
  const r = await runShield(
      server, {shield_id: 'llama-guard', messages: [user('how do I kill my neighbour')]});
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.violation.violation_level, 'error');
  assert.equal(
      r.json.violation.user_message, 'I can\'t answer that. Can I help with something else?');
  assert.deepEqual(r.json.violation.metadata, {violation_type: 'S1'});

  const two =
      await runShield(server, {shield_id: 'llama-guard', messages: [user('a hateful rant')]});
  assert.equal(two.json.violation.metadata.violation_type, 'S10,S1');
});

test('excluded categories do not count', async () => {
  const r = await runShield(
      excluding, {shield_id: 'llama-guard', messages: [user('how do I kill a process')]});
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.violation, null);
  const other =
      await runShield(excluding, {shield_id: 'llama-guard', messages: [user('a hateful rant')]});
  assert.equal(other.json.violation.metadata.violation_type, 'S10,S1');
});

test('a guard answer that is neither safe nor unsafe is a 502, never a pass', async () => {
  const r = await runShield(
      server, {shield_id: 'llama-guard', messages: [user('confuse the guard please')]});
  assert.equal(r.status, 502, JSON.stringify(r.json));
  assert.match(r.json.detail, /llama-guard/);
});

test('guard model faults name the shield', async () => {
  const down = await runShield(server, {shield_id: 'guard-down', messages: [user('hi')]});
  assert.equal(down.status, 503, JSON.stringify(down.json));
  assert.match(down.json.detail, /Shield 'guard-down'/);
  const missing = await runShield(server, {shield_id: 'guard-missing', messages: [user('hi')]});
  assert.equal(missing.status, 404, JSON.stringify(missing.json));
  assert.match(missing.json.detail, /no-such-model/);
  // The server keeps serving.
  assert.equal(
      (await runShield(server, {shield_id: 'llama-guard', messages: [user('hi')]})).status, 200);
});

test('bad requests are 400 or 404 naming what is wrong', async () => {
  const unknown = await runShield(server, {shield_id: 'nope', messages: [user('hi')]});
  assert.equal(unknown.status, 404);
  assert.match(unknown.json.detail, /Shield 'nope' not found/);
  for (const [body, path] of [
           [{messages: [user('hi')]}, 'shield_id'],
           [{shield_id: 'llama-guard', messages: []}, 'messages'],
           [{shield_id: 'llama-guard', messages: 'hi'}, 'messages'],
           [{shield_id: 'llama-guard', messages: [{content: 'hi'}]}, 'messages[0].role'],
           [
             {shield_id: 'llama-guard', messages: [{role: 'user', content: [{type: 'video'}]}]},
             'messages[0].content[0].type'
           ],
  ]) {
    const r = await runShield(server, body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.ok(r.json.detail.includes(path), `${r.json.detail} should name ${path}`);
  }
});

test(
    'guard calls go through the inference router but are not stored as chat completions',
    async () => {
      await runShield(server, {shield_id: 'llama-guard', messages: [user('hello')]});
      const res = await fetch(`${server.baseUrl}/v1/openai/v1/chat/completions`);
      assert.equal(res.status, 200);
      const list = await res.json();
      assert.equal(list.data.length, 0, JSON.stringify(list.data));
    });

async function moderate(target, body) {
  const res = await fetch(`${target.baseUrl}/v1/moderations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

test('moderations: one result per input, categories by Llama Guard and OpenAI names', async () => {
  const r = await moderate(server, { model: 'meta-llama/Llama-Guard-3-8B', input: ['hello', 'a hateful rant'] });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.results.length, 2);
  const [ok, bad] = r.json.results;
  assert.equal(ok.flagged, false);
  assert.equal(ok.user_message, null);
  assert.equal(Object.keys(ok.categories).length, 14 + 20);
  assert.ok(Object.values(ok.categories).every((v) => v === false));
  assert.equal(bad.flagged, true);
  assert.equal(bad.categories.Hate, true);
  assert.equal(bad.categories['Violent Crimes'], true);
  assert.equal(bad.categories.hate, true);
  assert.equal(bad.categories['sexual'], false);
  // Scores: the probability of "unsafe" from the guard's logprobs (the fake: 0.95).
  const close = (a, b) => assert.ok(Math.abs(a - b) < 1e-9, `${a} != ${b}`);
  close(bad.category_scores.Hate, 0.95);
  close(bad.category_scores.hate, 0.95);
  assert.equal(bad.category_scores.Elections, 0);
  assert.equal(bad.metadata.violation_type, 'S10,S1');
  close(bad.metadata.unsafe_probability, 0.95);
  close(ok.metadata.unsafe_probability, 0.02);
  assert.ok(Object.values(ok.category_scores).every((v) => v === 0));
  const asked = (await fake.stats()).last_request.body;
  assert.equal(asked.logprobs, true);
  assert.equal(asked.top_logprobs, 5);
  // Without logprobs (config logprobs: false): flagged categories score 1.0.
  const plain = await moderate(excluding, { model: 'meta-llama/Llama-Guard-3-8B', input: 'a hateful rant' });
  assert.equal(plain.status, 200, JSON.stringify(plain.json));
  assert.equal(plain.json.results[0].category_scores.Hate, 1);
  assert.deepEqual(plain.json.results[0].metadata, { violation_type: 'S10,S1' });
  // The shield is also found by its id.
  assert.equal((await moderate(server, { model: 'llama-guard', input: 'hi' })).status, 200);
});

test('moderations: bad requests name the field or the model', async () => {
  assert.equal((await moderate(server, { model: 'nope', input: 'hi' })).status, 404);
  const several = await moderate(server, { input: 'hi' });
  assert.equal(several.status, 400);
  assert.match(several.json.detail, /model/);
  for (const [body, path] of [
    [{ model: 'llama-guard' }, 'input'],
    [{ model: 'llama-guard', input: [] }, 'input'],
    [{ model: 'llama-guard', input: ['ok', 3] }, 'input[1]'],
  ]) {
    const r = await moderate(server, body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.ok(r.json.detail.includes(path), r.json.detail);
  }
});

test('moderations without a model use safety.default_shield_id; oversized text is 413', async () => {
  const r = await moderate(excluding, { input: 'a hateful rant' });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.model, 'meta-llama/Llama-Guard-3-8B');
  assert.equal(r.json.results[0].flagged, true);
  const big = 'x'.repeat(1001);
  const tooBig = await moderate(excluding, { input: big });
  assert.equal(tooBig.status, 413);
  assert.match(tooBig.json.detail, /safety.max_input_chars/);
  const shield = await runShield(excluding, { shield_id: 'llama-guard', messages: [user(big)], params: {} });
  assert.equal(shield.status, 413);
  assert.equal((await runShield(excluding, { shield_id: 'llama-guard', messages: [user('x'.repeat(900))], params: {} })).status, 200);
});

test('code-scanner flags insecure code with its rule ids', async () => {
  const code = 'Here you go:\n```python\nimport hashlib, os\nh = hashlib.md5(pw).hexdigest()\nos.system("rm " + path)\n```';
  const r = await runShield(server, {
    shield_id: 'code-scanner',
    messages: [user('write me a login'), { role: 'assistant', content: code }],
  });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.violation.user_message, 'Sorry, I found security concerns in the code.');
  assert.equal(r.json.violation.metadata.violation_type, 'weak-hash,shell-injection');
  const clean = await runShield(server, {
    shield_id: 'code-scanner',
    messages: [{ role: 'assistant', content: 'h = hashlib.sha256(pw).hexdigest()' }],
  });
  assert.equal(clean.json.violation, null);
  const m = await moderate(server, { model: 'CodeScanner', input: ['x = yaml.load(s)', 'print(1)'] });
  assert.equal(m.status, 200, JSON.stringify(m.json));
  assert.equal(m.json.results[0].flagged, true);
  assert.equal(m.json.results[0].categories['unsafe-deserialization'], true);
  assert.equal(m.json.results[1].flagged, false);
});

test('the starter distribution serves safety: the code scanner, and Llama Guard on Ollama when SAFETY_MODEL is set', async () => {
  const { readFile } = await import('node:fs/promises');
  const path = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  const here = path.dirname(fileURLToPath(import.meta.url));
  const yaml = await readFile(path.join(here, '..', '..', 'distributions', 'starter', 'run.yaml'), 'utf8');
  const starter = await startServer(yaml, {
    env: { OLLAMA_URL: fake.baseUrl, SAFETY_MODEL: 'llama3.2:3b', INFERENCE_MODEL: 'meta-llama/Llama-3.1-8B-Instruct' },
  });
  try {
    const shields = await (await fetch(`${starter.baseUrl}/v1/shields`)).json();
    assert.deepEqual(shields.data.map((s) => s.identifier).sort(), ['code-scanner', 'llama-guard']);
    await fake.reset();
    // Llama Guard over Ollama's native /api/chat (the Ollama protocol).
    const r = await runShield(starter, { shield_id: 'llama-guard', messages: [user('how do I kill my neighbour')] });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.violation.metadata.violation_type, 'S1');
    const stats = await fake.stats();
    assert.equal(stats.last_request.path, '/api/chat');
    assert.equal(stats.last_request.body.model, 'llama3.2:3b');
    assert.equal(stats.last_request.body.options.temperature, 0);
    assert.match(stats.last_request.body.messages[0].content, /^Task: Check if there is unsafe content in 'User' messages/);
    assert.match(stats.last_request.body.messages[0].content, /S14: Code Interpreter Abuse\./);
    const code = await runShield(starter, { shield_id: 'code-scanner', messages: [user('import hashlib\nhashlib.md5(password)')] });
    assert.equal(code.json.violation.metadata.violation_type, 'weak-hash');
  } finally {
    await starter.stop();
  }
  // Without SAFETY_MODEL only the code scanner is registered.
  const plain = await startServer(yaml, { env: { OLLAMA_URL: fake.baseUrl } });
  try {
    const shields = await (await fetch(`${plain.baseUrl}/v1/shields`)).json();
    assert.deepEqual(shields.data.map((s) => s.identifier), ['code-scanner']);
  } finally {
    await plain.stop();
  }
});
