// Starts the fake model server (tests/support/fake_model_server) for Node.js tests:
// deterministic OpenAI-compatible (/v1/...) and Ollama (/api/...) endpoints with
// fault injection through /control. The binary comes from $FAKE_MODEL_SERVER_BIN.
//
//   const fake = await startFakeModelServer();
//   // point a provider at fake.baseUrl (Ollama) or fake.openaiBaseUrl (OpenAI, ".../v1")
//   await fake.control({ status: 503 });   // every model endpoint now answers 503
//   await fake.reset();                    // no faults, zeroed statistics
//   const { requests, cancelled_streams, last_request } = await fake.stats();
//   await fake.stop();

import { spawn } from 'node:child_process';
import path from 'node:path';

import { trackChild } from './children.mjs';

const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 10_000;

/** Absolute path of the fake model server; throws a clear error when $FAKE_MODEL_SERVER_BIN is unset. */
export function fakeModelServerPath() {
  const bin = process.env.FAKE_MODEL_SERVER_BIN;
  if (!bin) {
    throw new Error(
      'FAKE_MODEL_SERVER_BIN is not set. Point it at the built fake, e.g.\n' +
        '  FAKE_MODEL_SERVER_BIN=/work/main/build/release/tests/fake-model-server node --test ...',
    );
  }
  return path.resolve(bin);
}

/** The reply text the fake gives: "Hello from <model>! You said: <text>", whitespace-normalized. */
export function fakeReply(model, userText) {
  return `Hello from ${model}! You said: ${userText}`.split(/\s+/).filter(Boolean).join(' ');
}

/** The fake's embedding of `text`: element i = sin(fnv1a32(text) + i), rounded to 6 decimals. */
export function fakeEmbedding(text, dimensions = 8) {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return Array.from({ length: dimensions }, (_, i) => {
    const v = Math.round(Math.sin(hash + i) * 1e6) / 1e6;
    return v === 0 ? 0 : v;
  });
}

async function postJson(url, body) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/**
 * Spawns `fake-model-server --host 127.0.0.1 --port 0` and waits for its
 * "listening on HOST:PORT" line.
 *
 * options: {host = '127.0.0.1', threads, args = [], env = {}, timeoutMs = 10 s}
 *
 * Returns {port, baseUrl, openaiBaseUrl, proc, output(), control(faults), getControl(),
 * reset(), stats(), stop()}:
 *   control(obj)  POST /control: merges the given fault fields (null clears one); resolves
 *                 with the resulting configuration
 *   reset()       POST /control/reset: no faults, statistics zeroed, hung requests dropped
 *   stats()       GET /control/stats
 *   stop()        resets (to release hung requests), sends SIGTERM, waits for the exit
 *                 (SIGKILL after 10 s); resolves with {code, signal, killed}
 */
export async function startFakeModelServer(options = {}) {
  const { host = '127.0.0.1', threads, args = [], env = {}, timeoutMs = START_TIMEOUT_MS } = options;
  const bin = fakeModelServerPath();
  const argv = ['--host', host, '--port', '0', ...(threads !== undefined ? ['--threads', String(threads)] : []), ...args];
  const child = spawn(bin, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  const chunks = [];
  const verbose = !!process.env.LLAMA_STACK_TEST_VERBOSE;
  const exited = new Promise((resolve) => {
    child.on('error', (error) => {
      if (child.pid === undefined) {
        resolve({ code: null, signal: null, error });
      }
    });
    child.on('close', (code, signal) => {
      resolve({ code, signal });
    });
  });
  child.stderr.on('data', (d) => {
    chunks.push(d);
    if (verbose) process.stderr.write(d);
  });
  const output = () => Buffer.concat(chunks).toString('utf8');

  const address = await new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fake-model-server did not start within ${timeoutMs} ms.\n${stdout}${output()}`));
    }, timeoutMs);
    child.stdout.on('data', (d) => {
      chunks.push(d);
      if (verbose) process.stderr.write(d);
      stdout += d.toString('utf8');
      const match = /^listening on (\S+):(\d+)$/m.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve({ host: match[1], port: Number(match[2]) });
      }
    });
    exited.then((info) => {
      clearTimeout(timer);
      reject(
        new Error(
          `fake-model-server exited before listening (code ${info.code}, signal ${info.signal}` +
            `${info.error ? `, ${info.error.message}` : ''}).\n${stdout}${output()}`,
        ),
      );
    });
  });

  const baseUrl = `http://${address.host}:${address.port}`;
  let stopping = null;
  return {
    port: address.port,
    baseUrl,
    openaiBaseUrl: `${baseUrl}/v1`,
    proc: child,
    exited,
    output,
    control: (faults) => postJson(`${baseUrl}/control`, faults),
    getControl: async () => (await fetch(`${baseUrl}/control`)).json(),
    reset: () => postJson(`${baseUrl}/control/reset`, {}),
    stats: async () => (await fetch(`${baseUrl}/control/stats`)).json(),
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          return { ...(await exited), killed: false };
        }
        // Drop hung requests first, so that the graceful shutdown does not wait for them.
        await fetch(`${baseUrl}/control/reset`, { method: 'POST', signal: AbortSignal.timeout(1000) })
          .then((r) => r.arrayBuffer())
          .catch(() => {});
        child.kill('SIGTERM');
        let timer;
        const first = await Promise.race([
          exited,
          new Promise((r) => {
            timer = setTimeout(() => r('timeout'), STOP_GRACE_MS);
          }),
        ]).finally(() => clearTimeout(timer));
        if (first === 'timeout') {
          child.kill('SIGKILL');
          return { ...(await exited), killed: true };
        }
        return { ...first, killed: false };
      })();
      return stopping;
    },
  };
}
