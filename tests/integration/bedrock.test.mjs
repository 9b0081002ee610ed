// remote::bedrock (Bedrock Guardrails) through the real binary, against a
// wire-level ApplyGuardrail double that checks every SigV4 signature itself.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startBedrockDouble } from '../clients/lib/bedrock_double.mjs';
import { startServer } from '../clients/lib/server.mjs';

const CREDS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret/with+chars', region: 'eu-west-1' };
let bedrock;
let server;
let wrongKey;
let temporary;

const config = (secret, extra = '') => `
version: 2
image_name: bedrock-test
apis: [safety]
providers:
  safety:
  - provider_id: bedrock
    provider_type: remote::bedrock
    config:
      aws_access_key_id: ${CREDS.accessKeyId}
      aws_secret_access_key: "${secret}"
      region_name: ${CREDS.region}
      endpoint_url: ${bedrock.url}
${extra}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
shields:
# As the guide writes it: no shield_id, the guardrail id names the shield.
- provider_id: bedrock
  params:
    guardrailVersion: "1"
  provider_shield_id: gr-guide
- {shield_id: arn-shield, provider_id: bedrock, provider_shield_id: "arn:aws:bedrock:eu-west-1:123456789012:guardrail/abc", params: {guardrailVersion: DRAFT}}
- {shield_id: old-version, provider_id: bedrock, provider_shield_id: gr-guide, params: {guardrailVersion: 7}}
`;

before(async () => {
  bedrock = await startBedrockDouble(CREDS);
  server = await startServer(config(CREDS.secretAccessKey));
  wrongKey = await startServer(config('not-the-secret'));
});

after(async () => {
  await server?.stop();
  await wrongKey?.stop();
  await temporary?.stop();
  await bedrock?.stop();
});

async function post(target, path, body) {
  const res = await fetch(`${target.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

const runShield = (target, shield_id, messages) =>
  post(target, '/v1/safety/run-shield', { shield_id, messages, params: {} });

test('a signed ApplyGuardrail call per check; no intervention is no violation', async () => {
  const before = bedrock.requests.length;
  const r = await runShield(server, 'gr-guide', [{ role: 'user', content: 'hello there' }]);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.deepEqual(r.json, { violation: null });
  const seen = bedrock.requests.slice(before);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].signatureOk, true, seen[0].reason);
  assert.equal(seen[0].path, '/guardrail/gr-guide/version/1/apply');
  assert.deepEqual(seen[0].json, { source: 'INPUT', content: [{ text: { text: 'hello there' } }] });
  assert.match(seen[0].headers.authorization, /Credential=AKIDTEST\/\d{8}\/eu-west-1\/bedrock\/aws4_request, SignedHeaders=content-type;host;x-amz-date,/);
});

test('GUARDRAIL_INTERVENED is an error violation with the output text and the assessment', async () => {
  const r = await runShield(server, 'gr-guide', [
    { role: 'user', content: 'tell me a story' },
    { role: 'assistant', content: [{ type: 'text', text: 'a violent story' }] },
  ]);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const v = r.json.violation;
  assert.equal(v.violation_level, 'error');
  assert.equal(v.user_message, 'Sorry, the model cannot answer this question.');
  assert.equal(v.metadata.contentPolicy.filters[0].type, 'VIOLENCE');
  assert.equal(v.metadata.violation_type, 'VIOLENCE');
  const last = bedrock.requests.at(-1);
  assert.equal(last.json.source, 'OUTPUT', 'the last message is the assistant\'s');
  assert.equal(last.json.content.length, 2, 'one text block per message');

  const topic = await runShield(server, 'gr-guide', [{ role: 'user', content: 'a forbidden topic and my ssn' }]);
  assert.equal(topic.json.violation.metadata.violation_type, 'PII:US_SOCIAL_SECURITY_NUMBER,TOPIC:Finance');
});

test('a guardrail ARN is encoded in the path and still signs correctly', async () => {
  const r = await runShield(server, 'arn-shield', [{ role: 'user', content: 'hi' }]);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const last = bedrock.requests.at(-1);
  assert.equal(last.signatureOk, true, last.reason);
  assert.equal(last.path, '/guardrail/arn%3Aaws%3Abedrock%3Aeu-west-1%3A123456789012%3Aguardrail%2Fabc/version/DRAFT/apply');
});

test('moderations: categories are what the guardrail acted on, scored by confidence', async () => {
  const r = await post(server, '/v1/moderations', { model: 'gr-guide', input: ['fine', 'an insult'] });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const [ok, bad] = r.json.results;
  assert.equal(ok.flagged, false);
  assert.equal(bad.flagged, true);
  assert.equal(bad.categories.INSULTS, true);
  assert.ok(Math.abs(bad.category_scores.INSULTS - 2 / 3) < 1e-9);
  assert.equal(bad.user_message, 'Sorry, the model cannot answer this question.');
});

test('failures name the shield: a bad signature, a missing version, Bedrock down', async () => {
  const bad = await runShield(wrongKey, 'gr-guide', [{ role: 'user', content: 'hi' }]);
  assert.equal(bad.status, 502, JSON.stringify(bad.json));
  assert.match(bad.json.detail, /Shield 'gr-guide'.*HTTP 403.*signature we calculated does not match/);
  assert.equal(bedrock.requests.at(-1).signatureOk, false);

  const missing = await runShield(server, 'old-version', [{ role: 'user', content: 'hi' }]);
  assert.equal(missing.status, 502);
  assert.match(missing.json.detail, /version 7 was not found/);

  bedrock.fail(503);
  try {
    const down = await runShield(server, 'gr-guide', [{ role: 'user', content: 'hi' }]);
    assert.equal(down.status, 503);
  } finally {
    bedrock.fail(0);
  }
  assert.equal((await runShield(server, 'gr-guide', [{ role: 'user', content: 'hi' }])).status, 200, 'recovers');

  const noVersion = await post(server, '/v1/shields', { shield_id: 'x', provider_id: 'bedrock', provider_shield_id: 'gr-x' });
  assert.equal(noVersion.status, 400);
  assert.match(noVersion.json.detail, /guardrailVersion/);
});

test('temporary credentials: the session token is sent and signed', async () => {
  const token = 'FwoGZXIvYXdzEXAMPLETOKEN';
  const saved = CREDS.sessionToken;
  CREDS.sessionToken = token;
  try {
    temporary = await startServer(config(CREDS.secretAccessKey, `      aws_session_token: ${token}`));
    const r = await runShield(temporary, 'gr-guide', [{ role: 'user', content: 'hi' }]);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const last = bedrock.requests.at(-1);
    assert.equal(last.signatureOk, true, last.reason);
    assert.match(last.headers.authorization, /SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,/);
  } finally {
    CREDS.sessionToken = saved;
  }
});
