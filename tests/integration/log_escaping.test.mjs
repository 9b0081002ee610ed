// Log and audit lines escape what they print (issue 15): a request whose
// target and headers carry raw control bytes, bidirectional overrides and
// invalid UTF-8 leaves one access-log line with those bytes escaped, and one
// audit line that is valid JSON, ASCII where those bytes were, and decodes
// back to what was sent.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { startIdentityServer, ISSUER } from '../clients/lib/identity_server.mjs';
import { startServer } from '../clients/lib/server.mjs';

let idp;
let server;

before(async () => {
  idp = await startIdentityServer();
  server = await startServer(`
version: 2
image_name: log-escaping-test
apis: [inference]
providers:
  inference: []
server:
  auth:
    provider_type: oauth2_token
    config:
      jwks: {uri: "${idp.jwksUrl}"}
      issuer: ${ISSUER}
  oauth:
    enable_audit_logging: true
    audit_log_level: INFO
    audit_log: {sink: file, path: "{{TMP}}/audit.jsonl"}
`);
});
after(async () => {
  await server?.stop();
  await idp?.stop();
});

// Sends raw bytes (fetch would refuse or encode them) and resolves with the answer.
function rawRequest(bytes) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1');
    const chunks = [];
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (d) => chunks.push(d));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
  });
}

const RLO = Buffer.from('\u202e', 'utf8');  // right-to-left override, e2 80 ae
const C1 = Buffer.from([0xc2, 0x85]);       // NEL
const INVALID = Buffer.from([0xff]);

async function waitFor(predicate, what) {
  for (let i = 0; i < 100; ++i) {
    const value = predicate();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('the access log and the audit log escape raw bytes from the request', async () => {
  const target = Buffer.concat([Buffer.from('/v1/models/evil'), RLO, Buffer.from('gpj'), C1, INVALID]);
  const request = Buffer.concat([
    Buffer.from('GET '), target, Buffer.from(' HTTP/1.1\r\nhost: x\r\nconnection: close\r\n'),
    Buffer.from('x-trace-id: t'), RLO, Buffer.from('x\r\n\r\n'),
  ]);
  const answer = await rawRequest(request);
  assert.match(answer, /^HTTP\/1\.1 401 /);

  const line = await waitFor(
    () => server.stderr().split('\n').find((l) => l.includes('/v1/models/evil')),
    'the access-log line');
  assert.ok(line.includes('/v1/models/evil\\u{202E}gpj\\xc2\\x85\\xff'), line);
  assert.ok(!line.includes('\u202e') && !line.includes('\u0085') && !line.includes('\ufffd'), line);

  const auditFile = path.join(server.tmpDir, 'audit.jsonl');
  const raw = await waitFor(() => {
    try {
      const bytes = readFileSync(auditFile);
      return bytes.includes('evil') ? bytes : null;
    } catch {
      return null;
    }
  }, 'the audit line');
  // Only ASCII around the escaped bytes: nothing a terminal or a viewer would reorder.
  assert.ok(!raw.includes(RLO) && !raw.includes(C1) && !raw.includes(INVALID), raw.toString('latin1'));
  const events = raw.toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const event = events.find((e) => String(e.path).includes('evil'));
  assert.ok(event, JSON.stringify(events));
  assert.equal(event.path, '/v1/models/evil\u202egpj\u0085\ufffd');
});
