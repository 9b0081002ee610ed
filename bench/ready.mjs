#!/usr/bin/env node
// Time-to-ready probe for the llama-stack server.
//
//   node bench/ready.mjs [--runs N] [--warmup W] [--port P] [--idle-ms MS]
//                        [--timeout-ms MS] -- <binary> <args...>
//
// For every run: records a monotonic timestamp immediately before spawn(),
// then polls http://127.0.0.1:P/v1/health back-to-back (a refused connect on
// loopback comes back in tens of microseconds, so the effective poll interval
// is well under 0.2 ms; no timer is involved, since Node timers cannot sleep
// below 1 ms) until the first HTTP 200. Time-to-ready = that moment - t0.
// With --idle-ms (> 0) it then waits that long with the server idle and reads
// VmRSS / VmHWM from /proc/<pid>/status. Finally it sends SIGTERM and waits for
// the process to exit before starting the next run.
//
// Prints one JSON object on stdout:
//   {"warmup":[{ready_ms,rss_kb,hwm_kb,exit_ms}...], "runs":[...], "baseline_ms":[...]}
// baseline_ms: spawn -> exit of `<binary> --version` (exec + dynamic loading +
// static initialisation, no config, no sockets), for reference.
import { spawn } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';

function parseArgs(argv) {
  const opts = { runs: 20, warmup: 1, port: 0, idleMs: 0, timeoutMs: 10000, baseline: 10 };
  const sep = argv.indexOf('--');
  if (sep < 0) throw new Error('usage: ready.mjs [options] -- <binary> <args...>');
  const own = argv.slice(0, sep);
  opts.cmd = argv.slice(sep + 1);
  for (let i = 0; i < own.length; i += 2) {
    const k = own[i], v = Number(own[i + 1]);
    if (!Number.isFinite(v)) throw new Error(`bad value for ${k}`);
    if (k === '--runs') opts.runs = v;
    else if (k === '--warmup') opts.warmup = v;
    else if (k === '--port') opts.port = v;
    else if (k === '--idle-ms') opts.idleMs = v;
    else if (k === '--timeout-ms') opts.timeoutMs = v;
    else if (k === '--baseline') opts.baseline = v;
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
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => {
    const m = text.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : null;
  };
  return { rss_kb: kb('VmRSS'), hwm_kb: kb('VmHWM') };
}

async function oneRun(opts) {
  const [bin, ...args] = opts.cmd;
  let exited = null;
  const t0 = nowMs();
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'ignore'] });
  const exitP = new Promise((r) => child.on('exit', (code, sig) => { exited = { code, sig, t: nowMs() }; r(); }));
  let readyMs = null;
  let probes = 0;
  while (true) {
    probes++;
    if (await probe(opts.port)) { readyMs = nowMs() - t0; break; }
    if (exited) throw new Error(`server exited before ready (code ${exited.code}, signal ${exited.sig})`);
    if (nowMs() - t0 > opts.timeoutMs) { child.kill('SIGKILL'); throw new Error('server not ready before timeout'); }
    // Yield to the event loop (so the 'exit' event can be seen) without a timer.
    await new Promise((r) => setImmediate(r));
  }
  const result = { ready_ms: readyMs, probes };
  if (opts.idleMs > 0) {
    await sleep(opts.idleMs);
    Object.assign(result, readStatus(child.pid));
  }
  const tTerm = nowMs();
  child.kill('SIGTERM');
  const killTimer = setTimeout(() => child.kill('SIGKILL'), 15000);
  await exitP;
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
