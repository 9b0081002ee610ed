// Benchmark identity provider: serves a JWKS (tests/clients/lib/identity_server.mjs)
// and writes tokens: one line per token, `count` distinct subjects.
//   node bench/idp.mjs TOKENS_FILE COUNT AUDIENCE SCOPE   → prints "jwks <url> issuer <iss>" and stays up
import { writeFileSync } from 'node:fs';
import { startIdentityServer, ISSUER } from '../tests/clients/lib/identity_server.mjs';

const [file, count = '1000', audience = 'llama-stack', scope = ''] = process.argv.slice(2);
const idp = await startIdentityServer();
const exp = Math.floor(Date.now() / 1000) + 3600;
const tokens = Array.from({ length: Number(count) }, (_, i) =>
  idp.sign({ sub: `bench-user-${i}`, aud: audience, exp, scope: scope || undefined }),
);
writeFileSync(file, tokens.join('\n') + '\n');
console.log(`jwks ${idp.jwksUrl} issuer ${ISSUER}`);
process.on('SIGTERM', async () => {
  await idp.stop();
  process.exit(0);
});
