#!/usr/bin/env node
// Time-to-ready probe for the llama-stack server.
//
//   node bench/ready.mjs [--runs N] [--warmup W] [--port P] [--idle-ms MS]
//                        [--poll-ms X] [--trigger log|none] [--fallback-ms F]
//                        [--timeout-ms MS]
//                        [--baseline K] -- <binary> <args...>
//
// For every run it records a monotonic timestamp immediately before spawn()
// and stops the clock at the first "HTTP/1.1 200" status line answered to
// GET /v1/health on 127.0.0.1:P. Time-to-ready = that moment - t0.
//
// How the probes are paced matters on a small machine: every refused connect
// costs CPU in the kernel and in this process, which competes with the
// starting server. So:
//   --trigger log (default): read the server's stderr and send the first probe
//       as soon as the "Listening on" line arrives (event driven, no polling
//       while the server initialises); if that probe is not a 200, keep probing
//       at --poll-ms. The server must log at INFO for category "server"
//       (the default); until the line arrives it also probes every
//       --fallback-ms (default 5), so a server that does not log it is still
//       measured, at that resolution.
//   --trigger none: poll from t0 at --poll-ms.
//   --poll-ms 0 = back-to-back probes (a refused loopback connect returns in
//       ~0.1-0.2 ms, so this is the "poll every 0.2 ms" loop); >= 1 uses a
//       timer (Node timers cannot sleep below 1 ms).
// With --idle-ms (> 0) it then waits that long with the server idle and reads
// VmRSS / VmHWM / RssAnon / RssFile / Threads from /proc/<pid>/status and
// Pss from /proc/<pid>/smaps_rollup. Finally it sends SIGTERM and waits
// for the process to exit before starting the next run.
//
// Prints one JSON object on stdout:
//   {"warmup":[{ready_ms,probes,rss_kb,hwm_kb,exit_ms,...}], "runs":[...],
//    "baseline_ms":[...]}
// baseline_ms: spawn -> exit of `<binary> --version` (exec + dynamic loading +
// static initialisation; no config, no sockets), for reference.
import { spawn } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';

function parseArgs(argv) {
  const opts = { runs: 20, warmup: 1, port: 0, idleMs: 0, timeoutMs: 10000, baseline: 10, pollMs: 0, fallbackMs: 5, trigger: 'log' };
  const sep = argv.indexOf('--');
  if (sep < 0) throw new Error('usage: ready.mjs [options] -- <binary> <args...>');
  const own = argv.slice(0, sep);
  opts.cmd = argv.slice(sep + 1);
  for (let i = 0; i < own.length; i += 2) {
    const k = own[i];
    if (k === '--trigger') {
      opts.trigger = own[i + 1];
      if (!['log', 'none'].includes(opts.trigger)) throw new Error('--trigger must be log or none');
      continue;
    }
    const v = Number(own[i + 1]);
    if (!Number.isFinite(v)) throw new Error(`bad value for ${k}`);
    if (k === '--runs') opts.runs = v;
    else if (k === '--warmup') opts.warmup = v;
    else if (k === '--port') opts.port = v;
    else if (k === '--idle-ms') opts.idleMs = v;
    else if (k === '--timeout-ms') opts.timeoutMs = v;
    else if (k === '--baseline') opts.baseline = v;
    else if (k === '--poll-ms') opts.pollMs = v;
    else if (k === '--fallback-ms') opts.fallbackMs = v;
    else throw new Error(`unknown option ${k}`);
  }
  if (!opts.port) throw new Error('--port is required');
  if (opts.cmd.length === 0) throw new Error('missing command after --');
  return opts;
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const REQUEST = 'GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n';

// One probe: resolves true on an HTTP 200 status line, false on anything else
// (connection refused, reset, non-200).
function probe(port) {
  return new Promise((resolve) => {
    let buf = '';
    let done = false;
    const finish = (ok) => {
      if (done) return;
      done = true;
      sock.destroy();
      resolve(ok);
    };
    const sock = net.connect({ host: '127.0.0.1', port, noDelay: true });
    sock.setEncoding('latin1');
    sock.on('connect', () => sock.write(REQUEST));
    sock.on('data', (d) => {
      buf += d;
      const eol = buf.indexOf('\r\n');
      if (eol >= 0) finish(/^HTTP\/1\.[01] 200 /.test(buf.slice(0, eol + 1)));
    });
    sock.on('error', () => finish(false));
    sock.on('close', () => finish(false));
  });
}

function readStatus(pid) {
  const kbOf = (text, key) => {
    const m = text.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : null;
  };
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  let rollup = '';
  try { rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'); } catch { /* older kernels */ }
  return {
    rss_kb: kbOf(status, 'VmRSS'),
    hwm_kb: kbOf(status, 'VmHWM'),
    rss_anon_kb: kbOf(status, 'RssAnon'),
    rss_file_kb: kbOf(status, 'RssFile'),
    pss_kb: kbOf(rollup, 'Pss'),
    threads: Number((status.match(/^Threads:\s+(\d+)/m) || [])[1]),
  };
}

async function oneRun(opts) {
  const [bin, ...args] = opts.cmd;
  let exited = null;
  const useLog = opts.trigger === 'log';
  const t0 = nowMs();
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', useLog ? 'pipe' : 'ignore'] });
  liveChild = child;
  const exitP = new Promise((r) => child.on('exit', (code, sig) => { exited = { code, sig, t: nowMs() }; r(); }));
  let listenMs = null;
  let listenP = null;
  if (useLog) {
    // Resolves at the "Listening on" line (or when stderr closes without it).
    listenP = new Promise((resolve) => {
      let tail = '';
      child.stderr.setEncoding('latin1');
      child.stderr.on('data', (d) => {
        if (listenMs !== null) return;   // keep draining: the access log follows
        tail = (tail + d).slice(-4096);
        if (tail.includes('Listening on')) { listenMs = nowMs() - t0; resolve(); }
      });
      child.stderr.on('close', resolve);
    });
  }
  let readyMs = null;
  let probes = 0;
  while (true) {
    if (useLog && listenMs === null) {
      // Wait for the line; probe every --fallback-ms meanwhile in case the
      // server does not log it (e.g. LLAMA_STACK_LOGGING=server=warning).
      await Promise.race([listenP, sleep(opts.fallbackMs)]);
    }
    probes++;
    if (await probe(opts.port)) { readyMs = nowMs() - t0; break; }
    if (exited) throw new Error(`server exited before ready (code ${exited.code}, signal ${exited.sig})`);
    if (nowMs() - t0 > opts.timeoutMs) { child.kill('SIGKILL'); throw new Error('server not ready before timeout'); }
    if (useLog && listenMs === null) continue;
    if (opts.pollMs >= 1) await sleep(opts.pollMs);
    // Yield to the event loop (so the 'exit' event can be seen) without a timer.
    else await new Promise((r) => setImmediate(r));
  }
  const result = { ready_ms: readyMs, listen_ms: listenMs, probes };
  if (opts.idleMs > 0) {
    await sleep(opts.idleMs);
    Object.assign(result, readStatus(child.pid));
  }
  const tTerm = nowMs();
  child.kill('SIGTERM');
  const killTimer = setTimeout(() => child.kill('SIGKILL'), 15000);
  await exitP;
  liveChild = null;
  clearTimeout(killTimer);
  result.exit_ms = exited.t - tTerm;
  result.exit_code = exited.code;
  result.exit_signal = exited.sig;
  return result;
}

async function baselineRun(bin) {
  const t0 = nowMs();
  const child = spawn(bin, ['--version'], { stdio: ['ignore', 'ignore', 'ignore'] });
  await new Promise((r) => child.on('exit', r));
  return nowMs() - t0;
}

// Never leave a server behind if this script fails half-way.
let liveChild = null;
process.on('exit', () => { if (liveChild && liveChild.exitCode === null) liveChild.kill('SIGKILL'); });

const opts = parseArgs(process.argv.slice(2));
const out = { warmup: [], runs: [], baseline_ms: [] };
for (let i = 0; i < opts.warmup; i++) out.warmup.push(await oneRun(opts));
for (let i = 0; i < opts.runs; i++) {
  out.runs.push(await oneRun(opts));
  process.stderr.write('.');
}
process.stderr.write('\n');
for (let i = 0; i < opts.baseline; i++) out.baseline_ms.push(await baselineRun(opts.cmd[0]));
process.stdout.write(JSON.stringify(out) + '\n');
