// A wire-level stand-in for Amazon Bedrock Runtime's ApplyGuardrail that
// verifies each request's AWS Signature Version 4 itself (an implementation
// independent of the server's, on node:crypto), so tests see what real AWS
// would refuse.
//
//   const bedrock = await startBedrockDouble({ accessKeyId, secretAccessKey, region });
//   bedrock.url            the endpoint_url to configure
//   bedrock.requests       every request: {path, headers, body, signatureOk, reason}
//
// Guardrails: any id, versions "1" and "DRAFT". The verdict depends on the
// text: "violent" → contentPolicy VIOLENCE (HIGH); "insult" → INSULTS
// (MEDIUM); "forbidden topic" → topicPolicy "Finance"; "my ssn" → PII
// US_SOCIAL_SECURITY_NUMBER; anything else → action NONE.
import crypto from 'node:crypto';
import http from 'node:http';

const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();

// RFC 3986 encoding, every byte but unreserved ones (and '/' when asked).
function uriEncode(text, keepSlash) {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === '/')) out += c;
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function verify(req, body, creds) {
  const auth = req.headers.authorization ?? '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return 'malformed Authorization header';
  const [, keyId, date, region, service, signedHeaders, signature] = m;
  if (keyId !== creds.accessKeyId) return 'unknown access key';
  if (region !== creds.region) return `wrong region ${region}`;
  if (service !== 'bedrock') return `wrong service ${service}`;
  const amzDate = req.headers['x-amz-date'] ?? '';
  if (!amzDate.startsWith(date)) return 'x-amz-date does not match the credential scope';
  const when = Date.UTC(+amzDate.slice(0, 4), +amzDate.slice(4, 6) - 1, +amzDate.slice(6, 8),
    +amzDate.slice(9, 11), +amzDate.slice(11, 13), +amzDate.slice(13, 15));
  if (Math.abs(Date.now() - when) > 15 * 60 * 1000) return 'signature expired';
  const names = signedHeaders.split(';');
  for (const required of ['host', 'x-amz-date']) {
    if (!names.includes(required)) return `${required} is not signed`;
  }
  if (creds.sessionToken) {
    if (req.headers['x-amz-security-token'] !== creds.sessionToken) return 'missing or wrong session token';
    if (!names.includes('x-amz-security-token')) return 'session token not signed';
  }
  const [rawPath, rawQuery = ''] = req.url.split('?');
  const query = rawQuery
    .split('&')
    .filter(Boolean)
    .map((p) => p.split('='))
    .map(([k, v = '']) => [uriEncode(decodeURIComponent(k), false), uriEncode(decodeURIComponent(v), false)])
    .sort()
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headerLines = names
    .map((n) => `${n}:${String(req.headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  // Every service but S3: the path as received is encoded once more.
  const canonical = [req.method, uriEncode(rawPath, true), query, headerLines, signedHeaders, sha256(body)].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, date), region), service), 'aws4_request');
  const expected = crypto.createHmac('sha256', key).update(toSign).digest('hex');
  return expected === signature ? null : 'The request signature we calculated does not match the signature you provided';
}

function verdict(texts) {
  const all = texts.join('\n');
  const assessment = {};
  if (/violent/.test(all)) {
    assessment.contentPolicy = { filters: [{ type: 'VIOLENCE', confidence: 'HIGH', filterStrength: 'HIGH', action: 'BLOCKED' }] };
  }
  if (/insult/.test(all)) {
    assessment.contentPolicy = { filters: [{ type: 'INSULTS', confidence: 'MEDIUM', filterStrength: 'HIGH', action: 'BLOCKED' }] };
  }
  if (/forbidden topic/.test(all)) {
    assessment.topicPolicy = { topics: [{ name: 'Finance', type: 'DENY', action: 'BLOCKED' }] };
  }
  if (/my ssn/.test(all)) {
    assessment.sensitiveInformationPolicy = { piiEntities: [{ match: '123-45-6789', type: 'US_SOCIAL_SECURITY_NUMBER', action: 'BLOCKED' }] };
  }
  if (Object.keys(assessment).length === 0) {
    return { usage: { topicPolicyUnits: 1 }, action: 'NONE', outputs: [], assessments: [{}] };
  }
  return {
    usage: { topicPolicyUnits: 1, contentPolicyUnits: 1 },
    action: 'GUARDRAIL_INTERVENED',
    outputs: [{ text: 'Sorry, the model cannot answer this question.' }],
    assessments: [assessment],
  };
}

export async function startBedrockDouble(creds) {
  const requests = [];
  const state = { status: 0 };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const reason = verify(req, body, creds);
      const record = { method: req.method, path: req.url, headers: req.headers, body, signatureOk: !reason, reason };
      try {
        record.json = JSON.parse(body);
      } catch {}
      requests.push(record);
      const send = (status, obj, type) => {
        res.writeHead(status, { 'content-type': 'application/json', ...(type ? { 'x-amzn-errortype': type } : {}) });
        res.end(JSON.stringify(obj));
      };
      if (state.status) return send(state.status, { message: `Injected failure (HTTP ${state.status})` }, 'ServiceUnavailableException');
      if (reason) return send(403, { message: reason }, 'InvalidSignatureException');
      const m = /^\/guardrail\/([^/]+)\/version\/([^/]+)\/apply$/.exec(req.url);
      if (req.method !== 'POST' || !m) return send(404, { message: 'Unknown operation' }, 'UnknownOperationException');
      if (!['1', 'DRAFT'].includes(decodeURIComponent(m[2]))) {
        return send(404, { message: `The guardrail version ${m[2]} was not found` }, 'ResourceNotFoundException');
      }
      const parsed = record.json;
      if (!parsed || !['INPUT', 'OUTPUT'].includes(parsed.source) || !Array.isArray(parsed.content)) {
        return send(400, { message: 'Malformed input request' }, 'ValidationException');
      }
      send(200, verdict(parsed.content.map((c) => c?.text?.text ?? '')));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    fail: (status) => {
      state.status = status;
    },
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}
