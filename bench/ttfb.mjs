// Time to first streamed byte (and to the full response) of a streaming chat
// completion, over one keep-alive connection, N sequential requests.
//   node bench/ttfb.mjs URL [N]   → prints JSON {p50_first_ms, p99_first_ms, p50_total_ms, p99_total_ms}
import http from 'node:http';

const [url, nArg] = process.argv.slice(2);
const n = Number(nArg ?? 300);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const body = JSON.stringify({ model: 'llama3.2:3b', stream: true, messages: [{ role: 'user', content: 'hi there' }] });

function once() {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    let first = null;
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.on('data', () => {
        if (first === null) first = process.hrtime.bigint();
      });
      res.on('end', () => resolve({ first: Number(first - start) / 1e6, total: Number(process.hrtime.bigint() - start) / 1e6 }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

for (let i = 0; i < 20; i++) await once();  // warm up
const firsts = [];
const totals = [];
for (let i = 0; i < n; i++) {
  const r = await once();
  firsts.push(r.first);
  totals.push(r.total);
}
console.log(JSON.stringify({
  p50_first_ms: +pct(firsts, 50).toFixed(3), p99_first_ms: +pct(firsts, 99).toFixed(3),
  p50_total_ms: +pct(totals, 50).toFixed(3), p99_total_ms: +pct(totals, 99).toFixed(3),
}));
agent.destroy();
