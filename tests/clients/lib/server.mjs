// Shared helpers for the Node.js test suites (tests/clients and tests/integration):
// start the llama-stack binary on a free port with a generated run.yaml, wait
// until it is healthy, and stop it again; run it as a CLI.
//
// The binary comes from $LLAMA_STACK_BIN (required).

import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { trackChild } from './children.mjs';

const HEALTH_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 10_000;
const CLI_TIMEOUT_MS = 20_000;

/** Absolute path of the binary under test; throws a clear error when $LLAMA_STACK_BIN is unset. */
export function binaryPath() {
  const bin = process.env.LLAMA_STACK_BIN;
  if (!bin) {
    throw new Error(
      'LLAMA_STACK_BIN is not set. Point it at the built server, e.g.\n' +
        '  LLAMA_STACK_BIN=/work/main/build/release/llama-stack node --test ...',
    );
  }
  return path.resolve(bin);
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/** A fresh temporary directory (with a `home` subdirectory used as HOME / LLAMA_STACK_CONFIG_DIR). */
export async function makeTmpDir(prefix = 'llama-stack-test-') {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await mkdir(path.join(dir, 'home'), { recursive: true });
  return dir;
}

/** Removes a temporary directory made by makeTmpDir (ignores errors). */
export async function removeTmpDir(dir) {
  if (dir) await rm(dir, { recursive: true, force: true });
}

/** Writes `yaml` (with every `{{TMP}}` replaced by tmpDir) to tmpDir/name; returns its path. */
export async function writeConfig(yaml, tmpDir, name = 'run.yaml') {
  const configPath = path.join(tmpDir, name);
  await writeFile(configPath, yaml.replaceAll('{{TMP}}', tmpDir));
  return configPath;
}

function childEnv(tmpDir, extra = {}) {
  const home = path.join(tmpDir, 'home');
  const env = { ...process.env, LLAMA_STACK_CONFIG_DIR: home, HOME: home, ...extra };
  // `undefined` in extra means "remove this variable".
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return env;
}

// Spawns the binary and collects its output. Returns {child, exited, stdout(), stderr(), output()};
// `exited` resolves with {code, signal} when the process ends.
function spawnCollect(args, { env, cwd } = {}) {
  const bin = binaryPath();
  const child = spawn(bin, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  const out = [];
  const err = [];
  const all = [];
  const verbose = !!process.env.LLAMA_STACK_TEST_VERBOSE;
  child.stdout.on('data', (d) => {
    out.push(d);
    all.push(d);
    if (verbose) process.stderr.write(d);
  });
  child.stderr.on('data', (d) => {
    err.push(d);
    all.push(d);
    if (verbose) process.stderr.write(d);
  });
  const exited = new Promise((resolve) => {
    let spawnError = null;
    child.on('error', (e) => {
      spawnError = e;
      // 'close' may never come when the spawn itself failed.
      if (child.pid === undefined) {
        resolve({ code: null, signal: null, error: e });
      }
    });
    child.on('close', (code, signal) => {
      resolve({ code, signal, error: spawnError });
    });
  });
  return {
    child,
    exited,
    stdout: () => Buffer.concat(out).toString('utf8'),
    stderr: () => Buffer.concat(err).toString('utf8'),
    output: () => Buffer.concat(all).toString('utf8'),
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Resolves with the promise's value, or with `onTimeout` after ms; never keeps the event loop alive
// once the promise has settled.
function raceTimeout(promise, ms, onTimeout = null) {
  let timer;
  const t = new Promise((r) => {
    timer = setTimeout(() => r(onTimeout), ms);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

async function healthOk(baseUrl) {
  try {
    const res = await fetch(`${baseUrl}/v1/health`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/**
 * Starts `llama-stack run <config> --port <free port>` and waits for GET /v1/health → 200.
 *
 * options:
 *   tmpDir     reuse this directory (e.g. to restart against the same databases); default: a new one
 *   configName file name of the written config (default run.yaml)
 *   extraArgs  more CLI arguments after `--port N`
 *   env        extra environment (a value of undefined removes the variable)
 *   timeoutMs  health wait (default 20 s)
 *   healthOk   async (baseUrl) => boolean, replaces the plain-HTTP health probe (e.g. for TLS)
 *   scheme     'http' (default) or 'https', for baseUrl
 *
 * Returns {port, baseUrl, proc, tmpDir, configPath, output(), stop()}.
 * stop() sends SIGTERM, waits for the exit (SIGKILL after 10 s) and resolves with
 * {code, signal, killed}. It does not delete tmpDir (see removeTmpDir).
 */
export async function startServer(yaml, options = {}) {
  const { configName = 'run.yaml', extraArgs = [], env = {}, timeoutMs = HEALTH_TIMEOUT_MS } = options;
  const probe = options.healthOk ?? healthOk;
  const scheme = options.scheme ?? 'http';
  binaryPath(); // fail early (and before making a temp dir) when $LLAMA_STACK_BIN is unset
  const ownTmp = !options.tmpDir;
  const tmpDir = options.tmpDir ?? (await makeTmpDir());
  await mkdir(path.join(tmpDir, 'home'), { recursive: true });
  const configPath = await writeConfig(yaml, tmpDir, configName);
  const fail = async (message) => {
    if (ownTmp) await removeTmpDir(tmpDir);
    throw new Error(message);
  };

  // The free port can be taken between our probe and the server's bind; retry once then.
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const baseUrl = `${scheme}://127.0.0.1:${port}`;
    const run = spawnCollect(['run', configPath, '--port', String(port), ...extraArgs], {
      env: childEnv(tmpDir, env),
      cwd: tmpDir,
    });
    let exitInfo = null;
    run.exited.then((info) => {
      exitInfo = info;
    });

    const deadline = Date.now() + timeoutMs;
    let healthy = false;
    while (Date.now() < deadline) {
      if (exitInfo) break;
      if (await probe(baseUrl)) {
        healthy = true;
        break;
      }
      await sleep(50);
    }

    if (healthy) {
      let stopping = null;
      const stop = () => {
        if (stopping) return stopping;
        stopping = (async () => {
          if (exitInfo) return { ...exitInfo, killed: false };
          run.child.kill('SIGTERM');
          const first = await raceTimeout(run.exited, STOP_GRACE_MS, 'timeout');
          if (first === 'timeout') {
            run.child.kill('SIGKILL');
            const info = await run.exited;
            return { ...info, killed: true };
          }
          return { ...first, killed: false };
        })();
        return stopping;
      };
      return {
        port,
        baseUrl,
        proc: run.child,
        tmpDir,
        configPath,
        exited: run.exited,
        output: run.output,
        stdout: run.stdout,
        stderr: run.stderr,
        stop,
      };
    }

    if (!exitInfo) {
      run.child.kill('SIGKILL');
      await run.exited;
      await fail(
        `llama-stack did not become healthy on ${baseUrl} within ${timeoutMs} ms.\n` +
          `--- server output ---\n${run.output()}`,
      );
    }
    const out = run.output();
    if (attempt === 0 && /address (already )?in use|EADDRINUSE/i.test(out)) continue;
    await fail(
      `llama-stack exited before becoming healthy (code ${exitInfo.code}, signal ${exitInfo.signal}` +
        `${exitInfo.error ? `, ${exitInfo.error.message}` : ''}).\n--- server output ---\n${out}`,
    );
  }
}

/**
 * Runs `llama-stack run <config> --port <free port> ...extraArgs` for a config that is expected
 * to be rejected, and resolves with {code, signal, stdout, stderr, configPath} once the
 * process exits. Rejects (after killing it) if it is still running after `timeoutMs`.
 * options: {tmpDir, configName, env, timeoutMs}. A temp dir made here is removed before returning.
 */
export async function startServerExpectFailure(yaml, extraArgs = [], options = {}) {
  const { configName = 'run.yaml', env = {}, timeoutMs = CLI_TIMEOUT_MS } = options;
  binaryPath();
  const ownTmp = !options.tmpDir;
  const tmpDir = options.tmpDir ?? (await makeTmpDir());
  const configPath = await writeConfig(yaml, tmpDir, configName);
  const port = await freePort();
  const run = spawnCollect(['run', configPath, '--port', String(port), ...extraArgs], {
    env: childEnv(tmpDir, env),
    cwd: tmpDir,
  });
  const result = await raceTimeout(run.exited, timeoutMs, null);
  if (result === null) {
    run.child.kill('SIGKILL');
    await run.exited;
    if (ownTmp) await removeTmpDir(tmpDir);
    throw new Error(
      `llama-stack was expected to exit but was still running after ${timeoutMs} ms.\n` +
        `--- output ---\n${run.output()}`,
    );
  }
  if (ownTmp) await removeTmpDir(tmpDir);
  return {
    code: result.code,
    signal: result.signal,
    stdout: run.stdout(),
    stderr: run.stderr(),
    configPath, // already deleted unless options.tmpDir was given; useful for file-name checks
  };
}

let cliTmpPromise = null;
function sharedCliTmp() {
  cliTmpPromise ??= makeTmpDir('llama-stack-cli-').then((dir) => {
    process.on('exit', () => {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // best effort
      }
    });
    return dir;
  });
  return cliTmpPromise;
}

/**
 * Runs the binary with `args` and resolves with {code, signal, stdout, stderr}.
 * HOME and LLAMA_STACK_CONFIG_DIR point at a private temp dir unless `env` overrides them;
 * `env` values of undefined remove the variable. options: {env, cwd, timeoutMs}
 */
export async function runCli(args, options = {}) {
  binaryPath();
  const { env = {}, cwd, timeoutMs = CLI_TIMEOUT_MS } = options;
  const tmp = await sharedCliTmp();
  const run = spawnCollect(args, { env: childEnv(tmp, env), cwd: cwd ?? tmp });
  const result = await raceTimeout(run.exited, timeoutMs, null);
  if (result === null) {
    run.child.kill('SIGKILL');
    await run.exited;
    throw new Error(
      `llama-stack ${args.join(' ')} did not exit within ${timeoutMs} ms.\n--- output ---\n${run.output()}`,
    );
  }
  if (result.error && result.code === null) throw result.error;
  return { code: result.code, signal: result.signal, stdout: run.stdout(), stderr: run.stderr() };
}

/**
 * Wraps a node:test test body so that, when it fails, the tail of the server's output is
 * attached as a diagnostic. `getServer` is a function returning the current server (or null).
 */
export function withServerLog(getServer, fn, tailChars = 6000) {
  return async (t) => {
    try {
      return await fn(t);
    } catch (e) {
      const srv = getServer();
      if (srv) {
        const lines = srv.output().slice(-tailChars).split('\n');
        t.diagnostic(`--- server output (last ${tailChars} chars) ---`);
        for (const line of lines) t.diagnostic(line);
      }
      throw e;
    }
  };
}
