// The Responses API's server-side `mcp` and `web_search` tools through the
// openai SDK: a real MCP server from npm (@modelcontextprotocol/server-everything)
// listed and called (mcp_list_tools, mcp_call items and their stream
// events), and web search through builtin::websearch against a Tavily wire
// double (web_search_call items).
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';

import OpenAI from 'openai';

import { startFakeModelServer } from './lib/fake_model_server.mjs';
import { startMcpServer } from './lib/mcp_server.mjs';
import { startServer, withServerLog } from './lib/server.mjs';

let fake;
let mcp;
let tavily;
let server;

before(async () => {
  fake = await startFakeModelServer();
  mcp = await startMcpServer();
  tavily = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ results: [{ title: 'Llamas', url: 'https://example.com', content: `News about ${JSON.parse(body).query}`, score: 0.8 }] }));
    });
  });
  await new Promise((r) => tavily.listen(0, '127.0.0.1', r));
  server = await startServer(`
version: 2
image_name: clients-responses-tools
apis: [inference, tool_runtime, agents]
providers:
  inference:
  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "${fake.baseUrl}/v1"}}
  tool_runtime:
  - {provider_id: tavily, provider_type: remote::tavily-search, config: {api_key: k, base_url: "http://127.0.0.1:${tavily.address().port}"}}
  agents:
  - {provider_id: meta-reference, provider_type: inline::meta-reference, config: {persistence_store: {type: sqlite, db_path: "{{TMP}}/agents.db"}}}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
models:
- {model_id: llama3.2:3b, provider_id: vllm}
tool_groups:
- {toolgroup_id: builtin::websearch, provider_id: tavily}
`);
});

after(async () => {
  await server?.stop();
  await mcp?.stop();
  await fake?.stop();
  tavily?.close();
});

const openai = () => new OpenAI({ baseURL: `${server.baseUrl}/v1/openai/v1`, apiKey: 'unused', maxRetries: 0 });
const MODEL = 'llama3.2:3b';
const mcpTool = () => ({ type: 'mcp', server_label: 'everything', server_url: mcp.url, allowed_tools: ['echo'], require_approval: 'never' });

test('an mcp tool: its server listed, its tool called, the model answered', withServerLog(() => server, async () => {
  const c = openai();
  const r = await c.responses.create({ model: MODEL, input: 'call tool echo {"message": "via responses"}', tools: [mcpTool()] });
  assert.deepEqual(r.output.map((o) => o.type), ['mcp_list_tools', 'mcp_call', 'message']);
  assert.deepEqual(r.output[0].tools.map((t) => t.name), ['echo']);
  assert.equal(r.output[0].server_label, 'everything');
  assert.equal(r.output[1].name, 'echo');
  assert.equal(r.output[1].output, 'Echo: via responses');
  assert.equal(r.output[1].error, null);
  assert.equal(r.output_text, 'Hello from llama3.2:3b! The tool said: Echo: via responses');
  // Only the allowed tool was offered.
  assert.deepEqual((await fake.stats()).last_request.body.tools.map((t) => t.function.name), ['echo']);

  const types = [];
  for await (const e of await c.responses.create({ model: MODEL, stream: true, input: 'call tool echo {"message": "streamed"}', tools: [mcpTool()] })) {
    types.push(e.type);
  }
  for (const t of ['response.mcp_list_tools.in_progress', 'response.mcp_list_tools.completed', 'response.mcp_call.in_progress',
    'response.mcp_call_arguments.delta', 'response.mcp_call_arguments.done', 'response.mcp_call.completed', 'response.completed']) {
    assert.ok(types.includes(t), `${t} in ${types.join(', ')}`);
  }
  await assert.rejects(
    c.responses.create({ model: MODEL, input: 'x', tools: [{ ...mcpTool(), require_approval: 'always' }] }),
    (e) => e.status === 400 && /require_approval/.test(e.message),
  );
}));

test('web_search runs through builtin::websearch as a web_search_call', withServerLog(() => server, async () => {
  const c = openai();
  const r = await c.responses.create({ model: MODEL, input: 'call tool web_search {"query": "llamas"}', tools: [{ type: 'web_search' }] });
  assert.deepEqual(r.output.map((o) => o.type), ['web_search_call', 'message']);
  assert.equal(r.output[0].status, 'completed');
  assert.deepEqual(r.output[0].action, { type: 'search', query: 'llamas' });
  assert.match(r.output_text, /The tool said: .*News about llamas/);
}));
