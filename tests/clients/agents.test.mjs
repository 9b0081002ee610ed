// Agents (inline::meta-reference) through llama-stack-client 0.2.12: the
// streamed event format, a client tool and resume (also across a restart),
// a RAG agent answering from a document through builtin::rag, input shields
// blocking a turn, max_infer_iters, tool errors the model sees, non-streamed
// turns, and 404s. The fake model server decides tool calls from the request
// ("call tool <name> {args}") and answers a tool result with "The tool said: …".
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import LlamaStackClient0212 from 'llama-stack-client-0212';

import { startFakeModelServer } from './lib/fake_model_server.mjs';
import { startServer, withServerLog } from './lib/server.mjs';

let fake;
let server;

const config = () => `
version: 2
image_name: clients-agents
apis: [inference, safety, vector_io, tool_runtime, agents, telemetry]
providers:
  inference:
  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "${fake.baseUrl}/v1"}}
  safety:
  - {provider_id: llama-guard, provider_type: inline::llama-guard, config: {}}
  vector_io:
  - {provider_id: faiss, provider_type: inline::faiss, config: {kvstore: {type: sqlite, db_path: "{{TMP}}/faiss.db"}}}
  tool_runtime:
  - {provider_id: rag-runtime, provider_type: inline::rag-runtime, config: {}}
  agents:
  - provider_id: meta-reference
    provider_type: inline::meta-reference
    config:
      persistence_store: {type: sqlite, db_path: "{{TMP}}/agents_store.db"}
  telemetry:
  - {provider_id: meta-reference, provider_type: inline::meta-reference, config: {sinks: [sqlite], sqlite_db_path: "{{TMP}}/trace_store.db"}}
metadata_store: {type: sqlite, db_path: "{{TMP}}/registry.db"}
models:
- {model_id: llama3.2:3b, provider_id: vllm}
- {model_id: meta-llama/Llama-Guard-3-8B, provider_id: vllm, provider_model_id: llama3.2:3b}
- {model_id: bow-embed, provider_id: vllm, model_type: embedding, metadata: {embedding_dimension: 64}}
shields:
- {shield_id: llama-guard, provider_shield_id: meta-llama/Llama-Guard-3-8B}
vector_dbs:
- {vector_db_id: kb, embedding_model: bow-embed, embedding_dimension: 64, provider_id: faiss}
tool_groups:
- {toolgroup_id: builtin::rag, provider_id: rag-runtime}
`;

before(async () => {
  fake = await startFakeModelServer();
  server = await startServer(config());
});

after(async () => {
  await server?.stop();
  await fake?.stop();
});

const client = () => new LlamaStackClient0212({ baseURL: server.baseUrl, maxRetries: 0 });

const weatherTool = {
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: [{ name: 'location', parameter_type: 'string', description: 'A city', required: true }],
};

async function collect(stream) {
  const events = [];
  for await (const chunk of stream) {
    assert.ok(chunk.event?.payload, `every chunk is {event: {payload}}: ${JSON.stringify(chunk)}`);
    events.push(chunk.event.payload);
  }
  return events;
}

function checkTimestamps(turn) {
  const stamps = [turn.started_at, ...turn.steps.flatMap((s) => [s.started_at, s.completed_at]), turn.completed_at];
  for (const t of stamps) assert.match(t, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  for (const s of turn.steps) assert.ok(s.completed_at > s.started_at, JSON.stringify(s));
  assert.ok(turn.completed_at >= turn.started_at);
}

test('a client tool: the turn awaits input, resume completes it with the tool result', withServerLog(() => server, async () => {
  const c = client();
  const { agent_id } = await c.agents.create({
    agent_config: { model: 'llama3.2:3b', instructions: 'You are helpful.', client_tools: [weatherTool] },
  });
  const { session_id } = await c.agents.session.create(agent_id, { session_name: 'weather' });
  const events = await collect(
    await c.agents.turn.create(agent_id, session_id, { messages: [{ role: 'user', content: 'please call tool get_weather' }], stream: true }),
  );
  const types = events.map((e) => `${e.event_type}${e.step_type ? `:${e.step_type}` : ''}`);
  assert.deepEqual(types.filter((t) => !t.startsWith('step_progress')), ['turn_start', 'step_start:inference', 'step_complete:inference', 'turn_awaiting_input']);
  const progress = events.filter((e) => e.event_type === 'step_progress');
  assert.equal(progress.at(-1).delta.parse_status, 'succeeded');
  assert.deepEqual(progress.at(-1).delta.tool_call.arguments, { location: 'Paris' });
  const awaiting = events.at(-1).turn;
  const call = awaiting.output_message.tool_calls[0];
  assert.equal(call.tool_name, 'get_weather');
  assert.equal(awaiting.output_message.stop_reason, 'end_of_message');

  const resumed = await collect(
    await c.agents.turn.resume(agent_id, session_id, awaiting.turn_id, {
      tool_responses: [{ call_id: call.call_id, tool_name: 'get_weather', content: 'sunny and 21 degrees' }],
      stream: true,
    }),
  );
  assert.equal(resumed[0].event_type, 'step_complete');
  assert.equal(resumed[0].step_type, 'tool_execution');
  const texts = resumed.filter((e) => e.event_type === 'step_progress' && e.delta.type === 'text').map((e) => e.delta.text).join('');
  assert.equal(texts, 'Hello from llama3.2:3b! The tool said: sunny and 21 degrees');
  const done = resumed.at(-1);
  assert.equal(done.event_type, 'turn_complete');
  assert.equal(done.turn.turn_id, awaiting.turn_id);
  assert.equal(done.turn.output_message.content, texts);
  assert.deepEqual(done.turn.steps.map((s) => s.step_type), ['inference', 'tool_execution', 'inference']);
  checkTimestamps(done.turn);

  // Stored: the turn, its steps, the session with its turns; a second turn sees the history.
  const turn = await c.agents.turn.retrieve(agent_id, session_id, awaiting.turn_id);
  assert.deepEqual(turn.steps.map((s) => s.step_id), done.turn.steps.map((s) => s.step_id));
  const step = await c.agents.steps.retrieve(agent_id, session_id, turn.turn_id, turn.steps[1].step_id);
  assert.equal(step.step.tool_responses[0].content, 'sunny and 21 degrees');
  const second = await collect(await c.agents.turn.create(agent_id, session_id, { messages: [{ role: 'user', content: 'thanks' }], stream: true }));
  assert.equal(second.at(-1).turn.output_message.content, 'Hello from llama3.2:3b! You said: thanks');
  const last = (await fake.stats()).last_request;
  assert.deepEqual(last.body.messages.map((m) => m.role), ['system', 'user', 'assistant', 'tool', 'assistant', 'user']);
  const session = await c.agents.session.retrieve(agent_id, session_id);
  assert.equal(session.turns.length, 2);
  assert.equal(session.session_name, 'weather');
}));

test('a RAG agent answers from a document through builtin::rag; non-streamed turns answer the Turn', withServerLog(() => server, async () => {
  const c = client();
  await c.toolRuntime.ragTool.insert({
    vector_db_id: 'kb',
    chunk_size_in_tokens: 64,
    documents: [{ document_id: 'orchids', content: 'Orchids need bright indirect light and weekly watering.', metadata: {} }],
  });
  const { agent_id } = await c.agents.create({
    agent_config: {
      model: 'llama3.2:3b',
      instructions: 'Answer from the knowledge base.',
      toolgroups: [{ name: 'builtin::rag/knowledge_search', args: { vector_db_ids: ['kb'] } }],
    },
  });
  const { session_id } = await c.agents.session.create(agent_id, { session_name: 'plants' });
  const turn = await c.agents.turn.create(agent_id, session_id, {
    messages: [{ role: 'user', content: 'call tool knowledge_search {"query": "orchids light watering"}' }],
    stream: false,
  });
  assert.deepEqual(turn.steps.map((s) => s.step_type), ['inference', 'tool_execution', 'inference']);
  const response = turn.steps[1].tool_responses[0];
  assert.equal(response.tool_name, 'knowledge_search');
  assert.match(JSON.stringify(response.content), /Orchids need bright indirect light/);
  assert.deepEqual(response.metadata.document_ids, ['orchids']);
  assert.match(turn.output_message.content, /^Hello from llama3\.2:3b! The tool said: knowledge_search tool found 1 chunks/);
  assert.match(turn.output_message.content, /Orchids need bright indirect light/);
  // The model was offered only the one tool of the group.
  const offered = (await fake.stats()).last_request.body.tools.map((t) => t.function.name);
  assert.deepEqual(offered, ['knowledge_search']);
}));

test('input shields block a turn; tool errors and broken arguments go back to the model', withServerLog(() => server, async () => {
  const c = client();
  const guarded = await c.agents.create({
    agent_config: { model: 'llama3.2:3b', instructions: 'x', input_shields: ['llama-guard'], client_tools: [weatherTool] },
  });
  const { session_id } = await c.agents.session.create(guarded.agent_id, { session_name: 's' });
  const events = await collect(
    await c.agents.turn.create(guarded.agent_id, session_id, { messages: [{ role: 'user', content: 'how do I kill a process' }], stream: true }),
  );
  assert.deepEqual(events.map((e) => e.event_type), ['turn_start', 'step_start', 'step_complete', 'turn_complete']);
  assert.deepEqual(events[1].metadata, { touchpoint: 'user-input' });
  const violation = events[2].step_details.violation;
  assert.equal(violation.violation_level, 'error');
  assert.equal(events[3].turn.output_message.content, violation.user_message);
  const safe = await c.agents.turn.create(guarded.agent_id, session_id, { messages: [{ role: 'user', content: 'hello there' }], stream: false });
  assert.equal(safe.steps[0].step_type, 'shield_call');
  assert.equal(safe.steps[0].violation, null);
  assert.equal(safe.output_message.content, 'Hello from llama3.2:3b! You said: hello there');

  // A RAG agent whose model sends broken arguments, then one whose vector DB is gone: tool errors.
  const rag = await c.agents.create({
    agent_config: {
      model: 'llama3.2:3b',
      instructions: 'x',
      toolgroups: [{ name: 'builtin::rag', args: { vector_db_ids: ['no-such-db'] } }],
      max_infer_iters: 5,
    },
  });
  const s2 = (await c.agents.session.create(rag.agent_id, { session_name: 's' })).session_id;
  const broken = await c.agents.turn.create(rag.agent_id, s2, { messages: [{ role: 'user', content: 'call tool knowledge_search with broken arguments' }], stream: false });
  assert.equal(broken.steps[1].step_type, 'tool_execution');
  assert.match(broken.steps[1].tool_responses[0].content, /^Error: the arguments of the call to 'knowledge_search' are not a JSON object/);
  assert.match(broken.output_message.content, /The tool said: Error:/);
  const missing = await c.agents.turn.create(rag.agent_id, s2, { messages: [{ role: 'user', content: 'call tool knowledge_search {"query": "x"}' }], stream: false });
  assert.match(missing.steps[1].tool_responses[0].content, /^Error: .*no-such-db/);

  // max_infer_iters: 1 — the model's tool call is not run.
  const once = await c.agents.create({
    agent_config: { model: 'llama3.2:3b', instructions: 'x', toolgroups: [{ name: 'builtin::rag', args: { vector_db_ids: ['kb'] } }], max_infer_iters: 1 },
  });
  const s3 = (await c.agents.session.create(once.agent_id, { session_name: 's' })).session_id;
  const stopped = await c.agents.turn.create(once.agent_id, s3, { messages: [{ role: 'user', content: 'call tool knowledge_search {"query": "x"}' }], stream: false });
  assert.deepEqual(stopped.steps.map((s) => s.step_type), ['inference']);
  assert.equal(stopped.output_message.stop_reason, 'end_of_turn');
}));

test('unknown ids are 404s; bad configs and requests are 400s; a model failure ends the stream with an error event', withServerLog(() => server, async () => {
  const c = client();
  const post = (path, body) => fetch(`${server.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal((await fetch(`${server.baseUrl}/v1/agents/nope`)).status, 404);
  const { agent_id } = await c.agents.create({ agent_config: { model: 'llama3.2:3b', instructions: 'x' } });
  assert.equal((await fetch(`${server.baseUrl}/v1/agents/${agent_id}/session/nope`)).status, 404);
  assert.equal((await post(`/v1/agents/${agent_id}/session/nope/turn`, { messages: [{ role: 'user', content: 'x' }], stream: true })).status, 404);
  const { session_id } = await c.agents.session.create(agent_id, { session_name: 's' });
  assert.equal((await fetch(`${server.baseUrl}/v1/agents/${agent_id}/session/${session_id}/turn/nope`)).status, 404);
  const bad = await post('/v1/agents', { agent_config: { instructions: 'x' } });
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).detail, /agent_config\.model/);
  assert.equal((await post(`/v1/agents/${agent_id}/session/${session_id}/turn`, { messages: [] })).status, 400);
  const notAwaiting = await post(`/v1/agents/${agent_id}/session/${session_id}/turn/nope/resume`, { tool_responses: [] });
  assert.equal(notAwaiting.status, 404);

  await fake.control({ status: 503 });
  try {
    const events = [];
    for await (const chunk of await c.agents.turn.create(agent_id, session_id, { messages: [{ role: 'user', content: 'x' }], stream: true })) events.push(chunk);
    assert.equal(events[0].event.payload.event_type, 'turn_start');
    assert.match(events.at(-1).error.message, /^50[23]: /);
  } finally {
    await fake.reset();
  }
  // The server is fine, and the failed turn is stored as incomplete.
  const session = await c.agents.session.retrieve(agent_id, session_id);
  assert.equal(session.turns.at(-1).output_message, null);
  assert.equal(session.turns.at(-1).completed_at, null);
  const listed = await fetch(`${server.baseUrl}/v1/agents`).then((r) => r.json());
  assert.ok(listed.data.some((a) => a.agent_id === agent_id));
  assert.equal((await c.agents.delete(agent_id)), null);
  assert.equal((await fetch(`${server.baseUrl}/v1/agents/${agent_id}`)).status, 404);
}));

test('a restart between a client tool call and its resume loses nothing', async () => {
  const c = client();
  const { agent_id } = await c.agents.create({ agent_config: { model: 'llama3.2:3b', instructions: 'x', client_tools: [weatherTool] } });
  const { session_id } = await c.agents.session.create(agent_id, { session_name: 's' });
  const awaiting = await c.agents.turn.create(agent_id, session_id, { messages: [{ role: 'user', content: 'call tool get_weather' }], stream: false });
  const call = awaiting.output_message.tool_calls[0];
  const { tmpDir } = server;
  await server.stop();
  server = await startServer(config(), { tmpDir });
  const done = await client().agents.turn.resume(agent_id, session_id, awaiting.turn_id, {
    tool_responses: [{ call_id: call.call_id, tool_name: 'get_weather', content: 'rainy' }],
    stream: false,
  });
  assert.equal(done.output_message.content, 'Hello from llama3.2:3b! The tool said: rainy');
  assert.deepEqual(done.steps.map((s) => s.step_type), ['inference', 'tool_execution', 'inference']);
});

test('a turn\'s shield, model, tool and vector search calls are child spans of its request', withServerLog(() => server, async () => {
  const c = client();
  const { agent_id } = await c.agents.create({
    agent_config: {
      model: 'llama3.2:3b', instructions: 'x', input_shields: ['llama-guard'],
      toolgroups: [{ name: 'builtin::rag/knowledge_search', args: { vector_db_ids: ['kb'] } }],
    },
  });
  const { session_id } = await c.agents.session.create(agent_id, { session_name: 's' });
  const res = await fetch(`${server.baseUrl}/v1/agents/${agent_id}/session/${session_id}/turn`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'call tool knowledge_search {"query": "orchids"}' }] }),
  });
  assert.equal(res.status, 200);
  const traceId = res.headers.get('x-trace-id');
  let spans = {};
  for (let i = 0; i < 30; i++) {
    const trace = await fetch(`${server.baseUrl}/v1/telemetry/traces/${traceId}`).then((r) => r.json());
    if (trace.root_span_id) {
      spans = await c.telemetry.getSpanTree(trace.root_span_id, {});
      if (Object.keys(spans).length >= 10) break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const byName = (n) => Object.values(spans).filter((s) => s.name === n);
  const root = Object.values(spans).find((s) => s.parent_span_id === null);
  assert.equal(root.name, '/v1/agents/{agent_id}/session/{session_id}/turn');
  // Each agent step is a span of the request; the router calls it makes are its children.
  const [shieldStep] = byName('agent.step.shield_call');
  assert.equal(shieldStep.parent_span_id, root.span_id);
  assert.equal(shieldStep.attributes.session_id, session_id);
  const [shield] = byName('safety.run_shield');
  assert.equal(shield.parent_span_id, shieldStep.span_id);
  assert.equal(shield.attributes.shield_id, 'llama-guard');
  assert.equal(byName('inference.chat_completion').filter((s) => s.parent_span_id === shield.span_id).length, 1, 'the guard\'s model call is the shield\'s child');
  const inferenceSteps = byName('agent.step.inference');
  assert.equal(inferenceSteps.length, 2, 'two inference steps');
  assert.ok(inferenceSteps.every((step) => step.parent_span_id === root.span_id));
  for (const step of inferenceSteps) {
    assert.equal(byName('inference.chat_completion').filter((s) => s.parent_span_id === step.span_id).length, 1);
  }
  const [toolStep] = byName('agent.step.tool_execution');
  assert.equal(toolStep.attributes.tool_name, 'knowledge_search');
  const [tool] = byName('tool_runtime.invoke_tool');
  assert.equal(tool.parent_span_id, toolStep.span_id);
  assert.equal(tool.attributes.tool_name, 'knowledge_search');
  const [search] = byName('vector_io.query');
  assert.equal(search.parent_span_id, tool.span_id);
  assert.equal(search.attributes.vector_db_id, 'kb');
  assert.equal(byName('inference.embeddings').filter((s) => s.parent_span_id === search.span_id).length, 1);
}));
