// A test identity provider for the auth tests: a JWKS endpoint with keys of
// every supported kind (generated per run), an RFC 7662 introspection
// endpoint, and a Llama Stack "custom" auth endpoint. It records what it is
// asked and can be switched off or made to fail.
import crypto from 'node:crypto';
import http from 'node:http';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

function makeKey(kind) {
  switch (kind) {
    case 'RS256':
    case 'PS256':
      return crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    case 'ES256':
      return crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'ES384':
      return crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'EdDSA':
      return crypto.generateKeyPairSync('ed25519');
    default:
      throw new Error(`unknown key kind ${kind}`);
  }
}

function signWith(alg, data, privateKey) {
  switch (alg) {
    case 'RS256':
      return crypto.sign('sha256', data, privateKey);
    case 'PS256':
      return crypto.sign('sha256', data, { key: privateKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    case 'ES256':
      return crypto.sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    case 'ES384':
      return crypto.sign('sha384', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    case 'EdDSA':
      return crypto.sign(null, data, privateKey);
    default:
      throw new Error(`cannot sign ${alg}`);
  }
}

export const ISSUER = 'https://idp.test';
export const AUDIENCE = 'llama-stack';

export async function startIdentityServer() {
  const keys = {};
  for (const alg of ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA']) {
    const pair = makeKey(alg);
    keys[alg] = { kid: `${alg.toLowerCase()}-1`, alg, ...pair };
  }
  const state = {
    published: new Set(Object.values(keys).map((k) => k.kid)),
    down: false,
    jwksRequests: 0,
    jwksAuthorization: [],
    custom: { status: 200, body: { principal: 'api-user', attributes: { roles: ['user'] } } },
    customRequests: [],
    introspection: new Map(), // token -> {status, body}
    introspectionRequests: [],
  };

  const jwk = (k) => ({ ...k.publicKey.export({ format: 'jwk' }), kid: k.kid, use: 'sig', alg: k.alg });

  const server = http.createServer((req, res) => {
    if (state.down) {
      req.socket.destroy();
      return;
    }
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const send = (status, obj) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(typeof obj === 'string' ? obj : JSON.stringify(obj));
      };
      if (req.method === 'GET' && req.url === '/jwks') {
        state.jwksRequests++;
        state.jwksAuthorization.push(req.headers.authorization ?? null);
        const published = Object.values(keys).filter((k) => state.published.has(k.kid)).map(jwk);
        // Keys we must ignore: a symmetric key and an encryption key.
        published.push({ kty: 'oct', kid: 'hmac', k: b64url('secret') });
        send(200, { keys: published });
      } else if (req.method === 'POST' && req.url === '/introspect') {
        state.introspectionRequests.push({ headers: req.headers, body });
        const token = new URLSearchParams(body).get('token');
        const answer = state.introspection.get(token) ?? { status: 200, body: { active: false } };
        send(answer.status, answer.body);
      } else if (req.method === 'POST' && req.url === '/custom') {
        state.customRequests.push({ headers: req.headers, body: JSON.parse(body) });
        send(state.custom.status, state.custom.body);
      } else {
        send(404, { error: 'not found' });
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const baseUrl = `http://127.0.0.1:${port}`;

  const now = () => Math.floor(Date.now() / 1000);

  /** Signs a token. claims override the defaults; opts: {alg, kid, header}. */
  function sign(claims = {}, opts = {}) {
    const alg = opts.alg ?? 'RS256';
    const key = opts.key ?? keys[alg];
    const header = { alg, typ: 'JWT', kid: opts.kid ?? key.kid, ...(opts.header ?? {}) };
    const payload = { iss: ISSUER, aud: AUDIENCE, sub: 'alice', iat: now(), exp: now() + 600, ...claims };
    for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    return `${input}.${b64url(signWith(alg, Buffer.from(input), key.privateKey))}`;
  }

  /** A token with an arbitrary header and signature (for attacks). */
  function forge(header, claims, signature) {
    const payload = { iss: ISSUER, aud: AUDIENCE, sub: 'mallory', iat: now(), exp: now() + 600, ...claims };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    return { input, token: `${input}.${b64url(signature(Buffer.from(input)))}` };
  }

  return {
    port,
    baseUrl,
    jwksUrl: `${baseUrl}/jwks`,
    introspectUrl: `${baseUrl}/introspect`,
    customUrl: `${baseUrl}/custom`,
    keys,
    state,
    sign,
    forge,
    /** A new key, published only when `publish` is true. */
    addKey(alg, kid, publish = true) {
      const pair = makeKey(alg);
      keys[kid] = { kid, alg, ...pair };
      if (publish) state.published.add(kid);
      return keys[kid];
    },
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}
