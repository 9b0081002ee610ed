// Soak traffic driver (bench/soak.sh): `workers` loops, each sending a mixed
// request after the other until `seconds` are over, with a bearer token of
// one of the users in TOKENS_FILE:
//   chat (35 %), chat streamed and read to the end (20 %), chat streamed and
//   abandoned after the first chunk (10 %), chat streamed and read slowly
//   (5 %), embeddings (15 %), model listing (15 %).
// Expected answers: 200, and 429 from the quota or the rate limit (the limits
// are set so that the users reach them). Everything else — another status, a
// 429 for another reason, a network error on a request we did not abandon, a
// stream that ends without its final chunk — is unexpected, and printed.
//   node bench/soak.mjs BASE_URL TOKENS_FILE SECONDS WORKERS  → one JSON line of counts
import { readFileSync } from 'node:fs';

const [base, tokensFile, secondsArg = '600', workersArg = '48'] = process.argv.slice(2);
const tokens = readFileSync(tokensFile, 'utf8').split('\n').filter(Boolean);
const deadline = Date.now() + Number(secondsArg) * 1000;
const counts = { requests: 0, ok: 0, quota_429: 0, rate_429: 0, abandoned: 0, slow: 0, unexpected: 0 };
const byKind = {};
const samples = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const chat = (stream) => JSON.stringify({
  model: 'llama3.2:3b', stream, max_tokens: 16,
  messages: [{ role: 'user', content: `soak ${Math.random().toString(36).slice(2)} please answer` }],
});

function unexpected(kind, detail) {
  counts.unexpected++;
  const sample = `${kind}: ${detail}`.slice(0, 300);
  if (samples.length < 10 && !samples.includes(sample)) samples.push(sample);
}

async function limited(kind, res) {
  const text = await res.text();
  if (/quota/i.test(text)) counts.quota_429++;
  else if (/rate limit/i.test(text)) counts.rate_429++;
  else unexpected(kind, `429 ${text}`);
}

async function once(kind, token) {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const controller = new AbortController();
  let abandoned = false;
  try {
    let res;
    if (kind === 'models') {
      res = await fetch(`${base}/v1/models`, { headers, signal: controller.signal });
    } else if (kind === 'embeddings') {
      res = await fetch(`${base}/v1/openai/v1/embeddings`, {
        method: 'POST', headers, signal: controller.signal,
        body: JSON.stringify({ model: 'all-minilm', input: ['soak text one', 'soak text two'] }),
      });
    } else {
      res = await fetch(`${base}/v1/openai/v1/chat/completions`, {
        method: 'POST', headers, signal: controller.signal, body: chat(kind !== 'chat'),
      });
    }
    if (res.status === 429) return limited(kind, res);
    if (res.status !== 200) return unexpected(kind, `${res.status} ${await res.text()}`);
    if (kind === 'chat' || kind === 'models' || kind === 'embeddings') {
      const body = await res.json();
      if (kind === 'chat' && !body.choices?.[0]?.message?.content) unexpected(kind, JSON.stringify(body));
      counts.ok++;
      return;
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (kind === 'stream_abandon') {
        abandoned = true;
        controller.abort();
        counts.abandoned++;
        return;
      }
      if (kind === 'stream_slow') await sleep(200);
    }
    if (!text.includes('data: [DONE]')) return unexpected(kind, `stream without [DONE]: ${text.slice(-200)}`);
    if (kind === 'stream_slow') counts.slow++;
    counts.ok++;
  } catch (e) {
    if (!abandoned) unexpected(kind, `${e.name}: ${e.cause?.code ?? ''} ${e.message}`);
  }
}

const mix = [
  ['chat', 35], ['stream', 20], ['stream_abandon', 10], ['stream_slow', 5], ['embeddings', 15], ['models', 15],
];
const total = mix.reduce((s, [, w]) => s + w, 0);
function pick() {
  let r = Math.random() * total;
  for (const [kind, w] of mix) if ((r -= w) < 0) return kind;
  return 'chat';
}

async function worker() {
  while (Date.now() < deadline) {
    const kind = pick();
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    counts.requests++;
    await once(kind, tokens[Math.floor(Math.random() * tokens.length)]);
  }
}

await Promise.all(Array.from({ length: Number(workersArg) }, worker));
console.log(JSON.stringify({ ...counts, by_kind: byKind, unexpected_samples: samples }));
