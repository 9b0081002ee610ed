// MCP tool groups (remote::model-context-protocol) against a real MCP server
// from npm (@modelcontextprotocol/server-everything), over Streamable HTTP and
// the legacy SSE transport: tool listing, invocation, an agent calling an
// MCP tool, and a server that goes away (a clear error; the stack stays up).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import LlamaStackClient0212 from 'llama-stack-client-0212';

import { startFakeModelServer } from './lib/fake_model_server.mjs';
import { startMcpServer } from './lib/mcp_server.mjs';
import { startServer, withServerLog } from './lib/server.mjs';

let fake;
let mcp;
let server;

before(async () => {
  fake = await startFakeModelServer();
  mcp = await startMcpServer();
  server = await startServer(`
version: 2
image_name: clients-mcp
apis: [inference, tool_runtime, agents]
providers:
  inference:
  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "${fake.baseUrl}/v1"}}
  tool_runtime:
  - {provider_id: mcp, provider_type: remote::model-context-protocol, config: {}}
  agents:
  - {provider_id: meta-reference, provider_type: inline::meta-reference, config: {persistence_store: {type: sqlite, db_path: "{{TMP}}/agents.db"}}}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
models:
- {model_id: llama3.2:3b, provider_id: vllm}
tool_groups:
- {toolgroup_id: mcp::everything, provider_id: mcp, mcp_endpoint: {uri: "${mcp.url}"}}
`);
});

after(async () => {
  await server?.stop();
  await mcp?.stop();
  await fake?.stop();
});

const client = () => new LlamaStackClient0212({ baseURL: server.baseUrl, maxRetries: 0 });

test('the MCP server\'s tools are listed and invoked', withServerLog(() => server, async () => {
  const c = client();
  const tools = await c.tools.list({ toolgroup_id: 'mcp::everything' });
  const echo = tools.find((t) => t.identifier === 'echo');
  assert.ok(echo, JSON.stringify(tools.map((t) => t.identifier)));
  assert.equal(echo.toolgroup_id, 'mcp::everything');
  assert.deepEqual(echo.parameters.map((p) => [p.name, p.parameter_type, p.required]), [['message', 'string', true]]);
  assert.ok(tools.some((t) => t.identifier === 'get-sum'));
  const result = await c.toolRuntime.invokeTool({ tool_name: 'echo', kwargs: { message: 'hello mcp' } });
  assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: hello mcp' }]);
  const sum = await c.toolRuntime.invokeTool({ tool_name: 'get-sum', kwargs: { a: 2, b: 40 } });
  assert.match(JSON.stringify(sum.content), /42/);
}));

test('an agent calls an MCP tool; a server that went away is a clear error and the stack stays healthy', withServerLog(() => server, async () => {
  const c = client();
  const { agent_id } = await c.agents.create({ agent_config: { model: 'llama3.2:3b', instructions: 'x', toolgroups: ['mcp::everything/echo'] } });
  const { session_id } = await c.agents.session.create(agent_id, { session_name: 's' });
  const turn = await c.agents.turn.create(agent_id, session_id, {
    messages: [{ role: 'user', content: 'call tool echo {"message": "from the agent"}' }],
    stream: false,
  });
  assert.deepEqual(turn.steps.map((s) => s.step_type), ['inference', 'tool_execution', 'inference']);
  assert.deepEqual(turn.steps[1].tool_responses[0].content, [{ type: 'text', text: 'Echo: from the agent' }]);
  assert.equal(turn.output_message.content, 'Hello from llama3.2:3b! The tool said: Echo: from the agent');

  // The MCP server stops: listing fails clearly; a turn already offered the tool reports it.
  await mcp.stop();
  const invoke = await fetch(`${server.baseUrl}/v1/tool-runtime/invoke`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tool_name: 'echo', kwargs: { message: 'x' } }),
  });
  assert.ok(invoke.status === 503 || invoke.status === 502 || invoke.status === 404, String(invoke.status));
  const health = await fetch(`${server.baseUrl}/v1/health`);
  assert.equal(health.status, 200);
}));

test('the legacy SSE transport (an endpoint ending in /sse): tools listed and called', async () => {
  const sse = await startMcpServer({ transport: 'sse' });
  const stack = await startServer(`
version: 2
image_name: clients-mcp-sse
apis: [tool_runtime]
providers:
  tool_runtime:
  - {provider_id: mcp, provider_type: remote::model-context-protocol, config: {}}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
tool_groups:
- {toolgroup_id: mcp::sse, provider_id: mcp, mcp_endpoint: {uri: "${sse.url}"}}
`);
  try {
    const c = new LlamaStackClient0212({ baseURL: stack.baseUrl, maxRetries: 0 });
    const tools = await c.tools.list({ toolgroup_id: 'mcp::sse' });
    assert.ok(tools.some((t) => t.identifier === 'echo'), JSON.stringify(tools.map((t) => t.identifier)));
    const result = await c.toolRuntime.invokeTool({ tool_name: 'echo', kwargs: { message: 'over sse' } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: over sse' }]);
  } finally {
    await stack.stop();
    await sse.stop();
  }
});
