// Real PostgreSQL and Redis servers for tests, from Debian's packages, started
// with tests/support/dbserver.sh on free loopback ports with their data in a
// temporary folder. stop()/start() restart them on the same data.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { freePort } from './server.mjs';

const run = promisify(execFile);
const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../support/dbserver.sh');
const running = new Set();

process.on('exit', () => {
  for (const server of running) {
    try {
      execFileSync('bash', [script, server.kind, 'stop', server.dir], { stdio: 'ignore' });
    } catch {
      // best effort
    }
  }
});

async function startDbServer(kind, password = '') {
  const base = mkdtempSync(path.join(os.tmpdir(), `llama-stack-${kind}-`));
  const dir = path.join(base, kind);
  const port = await freePort();
  const server = {
    kind,
    dir,
    port,
    password,
    async start() {
      await run('bash', [script, kind, 'start', dir, String(port), password]);
      running.add(server);
    },
    async stop() {
      await run('bash', [script, kind, 'stop', dir]);
      running.delete(server);
    },
    async remove() {
      await server.stop();
      rmSync(base, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

/** PostgreSQL: user llama, password secret, database llamastack. */
export const startPostgres = () => startDbServer('postgres');
/** Redis with a password. */
export const startRedis = (password = 'redis-secret') => startDbServer('redis', password);

/** run.yaml kvstore sections for the servers (flow style). */
export function postgresStore(pg, extra = '') {
  return `{type: postgres, host: 127.0.0.1, port: ${pg.port}, db: llamastack, user: llama, password: secret${extra}}`;
}
export function redisStore(redis, extra = '') {
  return `{type: redis, host: 127.0.0.1, port: ${redis.port}, password: ${redis.password}${extra}}`;
}
