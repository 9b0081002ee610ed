// Agent turns through the server: (1) the loop's overhead per step — a
// one-step turn (one inference) against the same chat completion through
// the server, sequential, with the model answering at once; (2) C concurrent
// streamed turns against a model that answers after LATENCY ms.
//   node bench/agents.mjs BASE FAKE_BASE [N] [C] [LATENCY]  → JSON lines
import http from 'node:http';

const [base, fakeBase, nArg, cArg, latencyArg] = process.argv.slice(2);
const n = Number(nArg ?? 200);
const concurrency = Number(cArg ?? 200);
const latency = Number(latencyArg ?? 200);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency + 8 });

function request(method, path, body, root = base) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(`${root}${path}`, {
      method, agent,
      headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {},
    }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const time = async (f) => {
  const t = process.hrtime.bigint();
  const r = await f();
  return [Number(process.hrtime.bigint() - t) / 1e6, r];
};

const { agent_id } = JSON.parse((await request('POST', '/v1/agents', { agent_config: { model: 'llama3.2:3b', instructions: 'Be brief.' } })).text);
const session = async () => JSON.parse((await request('POST', `/v1/agents/${agent_id}/session`, { session_name: 'bench' })).text).session_id;

// (1) overhead per step, model answering at once
await request('POST', '/control/reset', {}, fakeBase);
const chat = { model: 'llama3.2:3b', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hello there' }] };
const turnBody = { messages: [{ role: 'user', content: 'hello there' }], stream: false };
for (const streamed of [false, true]) {
  const chats = [];
  const turns = [];
  for (let i = 0; i < 20; i++) {  // warm up
    await request('POST', '/v1/chat/completions', { ...chat, stream: streamed });
    await request('POST', `/v1/agents/${agent_id}/session/${await session()}/turn`, { ...turnBody, stream: streamed });
  }
  for (let i = 0; i < n; i++) {
    const [c, cr] = await time(() => request('POST', '/v1/chat/completions', { ...chat, stream: streamed }));
    if (cr.status !== 200) throw new Error(`chat ${cr.status}`);
    chats.push(c);
    const s = await session();  // a fresh session: the same one-message context each time
    const [t, tr] = await time(() => request('POST', `/v1/agents/${agent_id}/session/${s}/turn`, { ...turnBody, stream: streamed }));
    if (tr.status !== 200) throw new Error(`turn ${tr.status}: ${tr.text}`);
    turns.push(t);
  }
  console.log(JSON.stringify({
    phase: 'overhead', streamed, n,
    chat_p50_ms: +pct(chats, 50).toFixed(3), turn_p50_ms: +pct(turns, 50).toFixed(3),
    overhead_p50_ms: +(pct(turns, 50) - pct(chats, 50)).toFixed(3),
    chat_p99_ms: +pct(chats, 99).toFixed(3), turn_p99_ms: +pct(turns, 99).toFixed(3),
  }));
}

// (2) C concurrent streamed turns, the model answering after `latency` ms
await request('POST', '/control', { latency_ms: latency }, fakeBase);
const sessions = [];
for (let i = 0; i < concurrency; i++) sessions.push(await session());
const started = process.hrtime.bigint();
const results = await Promise.all(sessions.map(async (s) => {
  const [ms, r] = await time(() => request('POST', `/v1/agents/${agent_id}/session/${s}/turn`, { ...turnBody, stream: true }));
  const ok = r.status === 200 && r.text.includes('"turn_complete"') && !r.text.includes('"error"');
  return { ms, ok };
}));
const wall = Number(process.hrtime.bigint() - started) / 1e6;
await request('POST', '/control/reset', {}, fakeBase);
const ms = results.map((r) => r.ms);
console.log(JSON.stringify({
  phase: 'concurrent', turns: concurrency, model_latency_ms: latency,
  errors: results.filter((r) => !r.ok).length,
  p50_ms: +pct(ms, 50).toFixed(1), p99_ms: +pct(ms, 99).toFixed(1), wall_ms: +wall.toFixed(1),
}));
