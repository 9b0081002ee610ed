// Time to the first content token and to the end of a streamed chat
// completion, N sequential requests over one keep-alive connection.
//   node bench/safety_stream.mjs URL N WORDS [SCOPE_TOKEN]
// WORDS: words in the user message (the fake echoes them: a reply of WORDS+5 tokens).
// Prints JSON {p50_first_ms, p90_first_ms, p50_total_ms, p90_total_ms, chunks}.
import http from 'node:http';

const [url, nArg, wordsArg] = process.argv.slice(2);
const n = Number(nArg ?? 30);
const words = Number(wordsArg ?? 3);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const text = Array.from({ length: words }, (_, i) => `w${i}`).join(' ');
const body = JSON.stringify({ model: 'llama3.2:3b', stream: true, messages: [{ role: 'user', content: text }] });

function once() {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    let first = null;
    let buffer = '';
    let chunks = 0;
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (d) => {
        buffer += d;
        let i;
        while ((i = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          if (!event.startsWith('data: {')) continue;
          chunks++;
          const content = JSON.parse(event.slice(6)).choices?.[0]?.delta?.content;
          if (first === null && content) first = process.hrtime.bigint();
        }
      });
      res.on('end', () => resolve({ first: Number(first - start) / 1e6, total: Number(process.hrtime.bigint() - start) / 1e6, chunks }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

for (let i = 0; i < 3; i++) await once(); // warm up
const firsts = [];
const totals = [];
let chunks = 0;
for (let i = 0; i < n; i++) {
  const r = await once();
  firsts.push(r.first);
  totals.push(r.total);
  chunks = r.chunks;
}
console.log(JSON.stringify({
  p50_first_ms: +pct(firsts, 50).toFixed(1), p90_first_ms: +pct(firsts, 90).toFixed(1),
  p50_total_ms: +pct(totals, 50).toFixed(1), p90_total_ms: +pct(totals, 90).toFixed(1), chunks,
}));
agent.destroy();
