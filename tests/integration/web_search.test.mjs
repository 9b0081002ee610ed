// Web search tool runtimes (remote::tavily-search, remote::brave-search)
// against wire doubles of the two services (their HTTP APIs, recorded): the
// requests we send, the answers we make of theirs, API keys from config and
// from provider data, their failures, and an agent whose model is offered
// web_search as brave_search (as Python does).
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';

import { startFakeModelServer } from '../clients/lib/fake_model_server.mjs';
import { startServer } from '../clients/lib/server.mjs';

let fake;
let double;
const seen = [];
let failWith = 0;

before(async () => {
  fake = await startFakeModelServer();
  double = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      if (failWith) {
        res.writeHead(failWith, { 'content-type': 'application/json' });
        return res.end('{"error":"no"}');
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.url.startsWith('/search')) {
        const q = JSON.parse(body).query;
        res.end(JSON.stringify({ query: q, results: [
          { title: 'Llamas', url: 'https://example.com/llamas', content: `About ${q}`, score: 0.9, raw_content: 'dropped' },
          { title: 'Alpacas', url: 'https://example.com/alpacas', content: 'Cousins', score: 0.5 },
        ] }));
      } else {
        const q = new URL(req.url, 'http://x').searchParams.get('q');
        res.end(JSON.stringify({ web: { results: [{ title: 'Brave llamas', url: 'https://example.org/l', description: `Brave on ${q}`, extra: 1 }] } }));
      }
    });
  });
  await new Promise((r) => double.listen(0, '127.0.0.1', r));
});

after(async () => {
  await fake?.stop();
  double?.close();
});

const base = () => `http://127.0.0.1:${double.address().port}`;
const config = (type, key) => `
version: 2
image_name: web-search-test
apis: [inference, tool_runtime, agents]
providers:
  inference:
  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "${fake.baseUrl}/v1"}}
  tool_runtime:
  - {provider_id: search, provider_type: ${type}, config: {${key ? `api_key: ${key}, ` : ''}base_url: "${base()}", max_results: 2}}
  agents:
  - {provider_id: meta-reference, provider_type: inline::meta-reference, config: {persistence_store: {type: sqlite, db_path: "{{TMP}}/agents.db"}}}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
models:
- {model_id: llama3.2:3b, provider_id: vllm}
tool_groups:
- {toolgroup_id: builtin::websearch, provider_id: search}
`;

async function post(server, path, body, headers = {}) {
  const r = await fetch(`${server.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null, text };
}

test('tavily: the request, the answer, keys from config and provider data, failures', async () => {
  const server = await startServer(config('remote::tavily-search', 'tvly-config'));
  try {
    seen.length = 0;
    const r = await post(server, '/v1/tool-runtime/invoke', { tool_name: 'web_search', kwargs: { query: 'llama facts' } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(JSON.parse(r.json.content), {
      query: 'llama facts',
      top_k: [
        { title: 'Llamas', url: 'https://example.com/llamas', content: 'About llama facts', score: 0.9 },
        { title: 'Alpacas', url: 'https://example.com/alpacas', content: 'Cousins', score: 0.5 },
      ],
    });
    assert.equal(seen[0].method, 'POST');
    assert.equal(seen[0].url, '/search');
    assert.equal(seen[0].headers.authorization, 'Bearer tvly-config');
    assert.deepEqual(JSON.parse(seen[0].body), { api_key: 'tvly-config', query: 'llama facts', max_results: 2 });
    await post(server, '/v1/tool-runtime/invoke', { tool_name: 'web_search', kwargs: { query: 'x' } },
      { 'x-llamastack-provider-data': JSON.stringify({ tavily_search_api_key: 'tvly-caller' }) });
    assert.equal(seen[1].headers.authorization, 'Bearer tvly-caller');

    failWith = 401;
    const refused = await post(server, '/v1/tool-runtime/invoke', { tool_name: 'web_search', kwargs: { query: 'x' } });
    assert.equal(refused.status, 400);
    assert.match(refused.json.detail, /Tavily refused the API key/);
    failWith = 500;
    assert.equal((await post(server, '/v1/tool-runtime/invoke', { tool_name: 'web_search', kwargs: { query: 'x' } })).status, 502);
    failWith = 0;

    // An agent: the model is offered brave_search; the call runs web_search.
    const { agent_id } = (await post(server, '/v1/agents', { agent_config: { model: 'llama3.2:3b', instructions: 'x', toolgroups: ['builtin::websearch'] } })).json;
    const { session_id } = (await post(server, `/v1/agents/${agent_id}/session`, { session_name: 's' })).json;
    const turn = (await post(server, `/v1/agents/${agent_id}/session/${session_id}/turn`, {
      messages: [{ role: 'user', content: 'call tool brave_search {"query": "llamas"}' }],
    })).json;
    assert.deepEqual(turn.steps.map((s) => s.step_type), ['inference', 'tool_execution', 'inference']);
    assert.equal(turn.steps[1].tool_calls[0].tool_name, 'brave_search');
    assert.match(turn.steps[1].tool_responses[0].content, /About llamas/);
    assert.match(turn.output_message.content, /^Hello from llama3\.2:3b! The tool said: \{"query":"llamas"/);
  } finally {
    await server.stop();
  }
});

test('brave: the request and the answer; no key at all is a clear 400', async () => {
  let server = await startServer(config('remote::brave-search', 'brave-key'));
  try {
    seen.length = 0;
    const r = await post(server, '/v1/tool-runtime/invoke', { tool_name: 'web_search', kwargs: { query: 'llama & alpaca' } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(JSON.parse(r.json.content), {
      query: 'llama & alpaca',
      top_k: [{ title: 'Brave llamas', url: 'https://example.org/l', description: 'Brave on llama & alpaca' }],
    });
    assert.equal(seen[0].method, 'GET');
    assert.equal(seen[0].url, '/res/v1/web/search?q=llama%20%26%20alpaca&count=2');
    assert.equal(seen[0].headers['x-subscription-token'], 'brave-key');
  } finally {
    await server.stop();
  }
  server = await startServer(config('remote::brave-search', null));
  try {
    const r = await post(server, '/v1/tool-runtime/invoke', { tool_name: 'web_search', kwargs: { query: 'x' } });
    assert.equal(r.status, 400);
    assert.match(r.json.detail, /brave_search_api_key/);
  } finally {
    await server.stop();
  }
});
