// Checks of what the server does while a request is in flight, over a raw
// connection (plain TCP or TLS): `connect` returns a connected socket and
// `request` is the raw HTTP/1.1 request text of a non-streamed chat completion.
import assert from 'node:assert/strict';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A client that leaves while its request waits upstream cancels the upstream
// call: the fake model server counts it.
export async function expectLeavingCancelsUpstream(fake, connect, request) {
  await fake.control({ latency_ms: 1500 });
  const before = (await fake.stats()).cancelled_streams;
  const socket = await connect();
  socket.write(request);
  await sleep(300);
  socket.destroy();
  let cancelled = before;
  for (let i = 0; i < 100 && cancelled === before; i++) {
    await sleep(50);
    cancelled = (await fake.stats()).cancelled_streams;
  }
  assert.ok(cancelled > before, 'the fake model server saw the request cancelled');
}

// A second request sent while the first is still waiting upstream is the
// next pipelined request, not a disconnect: both are answered, in order.
export async function expectPipelinedRequestAnswered(fake, connect, request) {
  await fake.reset();
  await fake.control({ latency_ms: 200 });
  const socket = await connect();
  let received = '';
  const done = new Promise((resolve, reject) => {
    socket.on('data', (d) => {
      received += d;
      const parts = received.split('HTTP/1.1 200').slice(1);
      if (parts.length === 2 && parts.every((p) => p.includes('"object":"chat.completion"')) &&
          received.trimEnd().endsWith('}')) {
        resolve();
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`closed early: ${received}`)));
  });
  socket.write(request);
  await sleep(50);
  socket.write(request);
  await done;
  socket.destroy();
  await fake.reset();
}

export function rawChatRequest(body) {
  const text = JSON.stringify(body);
  return `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`;
}
