// Vector IO through the server: insert throughput (embeddings precomputed)
// and vector-query latency, against a running llama-stack.
//   node bench/vector_io.mjs BASE_URL PROVIDER_ID N [QUERIES] [SERVER_PID] [FAKE_URL]
// Prints one JSON line.
import { readFileSync } from 'node:fs';
import http from 'node:http';

const [base, provider, nArg, qArg, pidArg, fakeUrl] = process.argv.slice(2);
const n = Number(nArg);
const queries = Number(qArg ?? 200);
const dim = 384;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(method, url, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(url, { method, agent, headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        if (res.statusCode >= 300) reject(new Error(`${method} ${url}: ${res.statusCode} ${text.slice(0, 300)}`));
        else resolve(text);
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

const rss = () => {
  if (!pidArg) return 0;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pidArg}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
};
let seed = 1;
const rand = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648 - 0.5;
};
const unit = () => {
  const v = Array.from({ length: dim }, rand);
  const norm = Math.hypot(...v);
  return v.map((x) => +(x / norm).toFixed(6));
};
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const time = async (fn) => {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
};

const db = `bench-${provider}-${n}`;
await request('POST', `${base}/v1/vector-dbs`, { vector_db_id: db, embedding_model: 'bow-embed-384', embedding_dimension: dim, provider_id: provider });
const rssBefore = rss();
const batch = 500;
let insertMs = 0;
for (let i = 0; i < n; i += batch) {
  const chunks = [];
  for (let j = i; j < Math.min(n, i + batch); j++) {
    chunks.push({ content: `chunk ${j} about topic ${j % 97}`, metadata: { document_id: `d${j}` }, embedding: unit() });
  }
  insertMs += await time(() => request('POST', `${base}/v1/vector-io/insert`, { vector_db_id: db, chunks }));
}
const rssAfter = rss();

const words = ['topic', 'chunk', 'about', 'vector', 'search', 'memory', 'python', 'index'];
const q = () => `${words[Math.floor(Math.random() * words.length)]} ${Math.floor(Math.random() * 97)}`;
for (let i = 0; i < 20; i++) await request('POST', `${base}/v1/vector-io/query`, { vector_db_id: db, query: q(), params: { max_chunks: 3 } });
const server = [];
for (let i = 0; i < queries; i++) {
  server.push(await time(() => request('POST', `${base}/v1/vector-io/query`, { vector_db_id: db, query: q(), params: { max_chunks: 3 } })));
}
// The parts of a query that are not the search: an HTTP round trip to the
// server, and the query's embedding call to the model server.
const health = [];
for (let i = 0; i < queries; i++) health.push(await time(() => request('GET', `${base}/v1/health`)));
const embed = [];
if (fakeUrl) {
  for (let i = 0; i < queries; i++) {
    embed.push(await time(() => request('POST', `${fakeUrl}/v1/embeddings`, { model: 'bow-embed-384', input: [q()] })));
  }
}
console.log(JSON.stringify({
  provider, n,
  insert_chunks_per_s: Math.round(n / (insertMs / 1000)),
  query_p50_ms: +pct(server, 50).toFixed(3), query_p99_ms: +pct(server, 99).toFixed(3),
  http_p50_ms: +pct(health, 50).toFixed(3), embed_p50_ms: embed.length ? +pct(embed, 50).toFixed(3) : null,
  rss_bytes_per_vector: rssBefore ? Math.round((rssAfter - rssBefore) / n) : null,
}));
agent.destroy();
