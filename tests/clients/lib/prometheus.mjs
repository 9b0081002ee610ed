// A real Prometheus server (Debian's `prometheus` package) in a temporary
// folder, scraping the given targets every second; query() uses its HTTP API.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { trackChild } from './children.mjs';
import { freePort } from './server.mjs';

const BIN = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';

/** targets: [{ address: '127.0.0.1:PORT', bearerToken? }] */
export async function startPrometheus(targets) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'prometheus-'));
  const jobs = targets.map((t, i) => [
    `  - job_name: target${i}`,
    '    scrape_interval: 1s',
    '    scrape_timeout: 1s',
    ...(t.bearerToken ? ['    authorization:', `      credentials: ${t.bearerToken}`] : []),
    '    static_configs:',
    `      - targets: ['${t.address}']`,
  ].join('\n'));
  const config = path.join(dir, 'prometheus.yml');
  await writeFile(config, `global:\n  scrape_interval: 1s\nscrape_configs:\n${jobs.join('\n')}\n`);
  const port = await freePort();
  let log = '';
  const child = trackChild(spawn(BIN, [
    `--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
  ], { stdio: ['ignore', 'pipe', 'pipe'] }));
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.once('error', (e) => { log += `spawn failed: ${e.message} (is Debian's prometheus package installed?)`; });
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30000;
  for (;;) {
    try {
      if ((await fetch(`${baseUrl}/-/ready`)).ok) break;
    } catch { /* not yet */ }
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`prometheus did not become ready:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    baseUrl,
    log: () => log,
    /** The instant query's result vector. */
    async query(expr) {
      const res = await fetch(`${baseUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = await res.json();
      if (body.status !== 'success') throw new Error(`query ${expr}: ${JSON.stringify(body)}`);
      return body.data.result;
    },
    /** The targets' health, as Prometheus sees them. */
    async targets() {
      const body = await (await fetch(`${baseUrl}/api/v1/targets`)).json();
      return body.data.activeTargets;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
