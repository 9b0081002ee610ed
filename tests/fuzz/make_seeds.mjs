// Writes the seed corpus (tests/fuzz/corpus/<target>/) — small inputs made
// by us, one folder per fuzz target. Run from anywhere:
//   node tests/fuzz/make_seeds.mjs
// The output is checked in; re-running rewrites it (keys are fresh each run).
import { generateKeyPairSync, createSign, createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { makePdf } from '../clients/lib/documents.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');
const corpus = path.join(here, 'corpus');

const seeds = {};
const add = (target, ...inputs) => {
  (seeds[target] ??= []).push(...inputs.map((i) => (Buffer.isBuffer(i) ? i : Buffer.from(i, 'utf8'))));
};
const withByte = (byte, text) => Buffer.concat([Buffer.from([byte]), Buffer.from(text, 'utf8')]);
const json = (v) => JSON.stringify(v);

// --- http_request
add('http_request',
  'GET /v1/models?limit=10&order=desc&after=m%2F1 HTTP/1.1\r\nhost: localhost\r\naccept: */*\r\n\r\n',
  'POST /v1/openai/v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 17\r\n\r\n{"model":"llama"}',
  'POST /v1/inference/chat-completion HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{"a":\r\n2;ext=1\r\n1}\r\n0\r\ntrailer: t\r\n\r\n',
  'GET /v1/health HTTP/1.1\r\nhost: x\r\n\r\nGET /v1/version HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n',
  'DELETE /v1/models/a%20b HTTP/1.0\r\nauthorization: Bearer abc\r\nx-trace-id: 0af7651916cd43dd8448eb211c80319c\r\n\r\n',
  'GET /v1/models HTTP/1.1\r\nhost: x\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\nx-forwarded-for: 1.2.3.4, 5.6.7.8\r\n\r\n');

// --- json_body (first byte: 0 chat, 1 completion, 2 embeddings)
add('json_body',
  withByte(0, json({ model_id: 'llama3.2:3b', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: [{ type: 'text', text: 'hi' }] }], sampling_params: { strategy: { type: 'top_p', temperature: 0.7, top_p: 0.9 }, max_tokens: 20, repetition_penalty: 1.1 }, tools: [{ tool_name: 'get_weather', description: 'w', parameters: { city: { param_type: 'string', required: true } } }], tool_choice: 'auto', response_format: { type: 'json_schema', json_schema: { type: 'object' } }, stream: true, logprobs: { top_k: 2 } })),
  withByte(0, json({ model_id: 'm', messages: [{ role: 'assistant', content: '', stop_reason: 'end_of_turn', tool_calls: [{ call_id: 'c1', tool_name: 'get_weather', arguments: { city: 'Paris' } }] }, { role: 'tool', call_id: 'c1', content: 'sunny' }], tool_config: { tool_choice: 'required', tool_prompt_format: 'json' } })),
  withByte(1, json({ model_id: 'm', content: 'Once upon', sampling_params: { strategy: { type: 'greedy' }, stop: ['\n'] }, stream: false })),
  withByte(2, json({ model_id: 'embed', contents: ['a', { type: 'text', text: 'b' }], text_truncation: 'end', output_dimension: 8, task_type: 'query' })),
  withByte(0, json({ model: 'gpt', messages: [{ role: 'user', content: 'x' }], stream: true, stream_options: { include_usage: true }, tools: [{ type: 'function', function: { name: 'f', parameters: {} } }], temperature: 1, max_tokens: 3 })));

// --- request_dispatch (first byte: the route's index in kRoutes)
const routes = readFileSync(path.join(here, 'request_dispatch_fuzzer.cc'), 'utf8')
  .match(/kRoutes\[\] = \{([\s\S]*?)\n\};/)[1]
  .split('\n').map((l) => l.match(/\{"(GET|POST)", "([^"]+)"\}/)).filter(Boolean).map((m) => `${m[1]} ${m[2]}`);
const route = (key, body) => {
  const i = routes.indexOf(key);
  if (i < 0) throw new Error(`no route ${key}`);
  return withByte(i, typeof body === 'string' ? body : json(body));
};
add('request_dispatch',
  route('POST /v1/openai/v1/chat/completions', { model: 'llama3.2:3b', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5, stream: false }),
  route('POST /v1/openai/v1/completions', { model: 'llama3.2:3b', prompt: ['a', 'b'], stream: true }),
  route('POST /v1/openai/v1/embeddings', { model: 'embed', input: ['a'], encoding_format: 'base64' }),
  route('POST /v1/inference/chat-completion', { model_id: 'llama3.2:3b', messages: [{ role: 'user', content: 'hi' }] }),
  route('POST /v1/models', { model_id: 'm2', provider_id: 'vllm', model_type: 'llm', metadata: { required_scope: 's' } }),
  route('POST /v1/shields', { shield_id: 'sc2', provider_id: 'code-scanner' }),
  route('POST /v1/vector-dbs', { vector_db_id: 'kb2', embedding_model: 'embed', embedding_dimension: 8 }),
  route('POST /v1/safety/run-shield', { shield_id: 'code-scanner', messages: [{ role: 'user', content: 'import os; os.system("rm -rf /")' }], params: {} }),
  route('POST /v1/openai/v1/moderations', { input: ['eval(x)'], model: 'code-scanner' }),
  route('POST /v1/vector-io/insert', { vector_db_id: 'kb', chunks: [{ content: 'hello', metadata: { document_id: 'd1' } }], ttl_seconds: 60 }),
  route('POST /v1/vector-io/query', { vector_db_id: 'kb', query: 'hello', params: { max_chunks: 3, mode: 'keyword' } }),
  route('POST /v1/openai/v1/vector_stores', { name: 'docs', metadata: { a: 'b' }, chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 10 } }, expires_after: { anchor: 'last_active_at', days: 2 } }),
  route('POST /v1/openai/v1/vector_stores/{store}/search', { query: 'q', max_num_results: 3, filters: { type: 'and', filters: [{ type: 'eq', key: 'a', value: 'b' }, { type: 'gt', key: 'n', value: 3 }] }, ranking_options: { score_threshold: 0.1 }, rewrite_query: false }),
  route('POST /v1/openai/v1/vector_stores/{store}/files', { file_id: 'file-1', attributes: { k: 'v' } }),
  route('POST /v1/agents', { agent_config: { model: 'llama3.2:3b', instructions: 'x', name: 'a', toolgroups: ['builtin::rag', { name: 'builtin::rag/knowledge_search', args: { vector_db_ids: ['kb'] } }], input_shields: ['code-scanner'], sampling_params: { max_tokens: 10 }, max_infer_iters: 2, enable_session_persistence: true } }),
  route('POST /v1/agents/{agent}/session', { session_name: 'another' }),
  route('POST /v1/agents/{agent}/session/{session}/turn', { messages: [{ role: 'user', content: 'hi' }], stream: true, documents: [{ content: 'doc text', mime_type: 'text/plain' }] }),
  route('POST /v1/openai/v1/responses', { model: 'llama3.2:3b', input: [{ role: 'user', content: [{ type: 'input_text', text: 'hi' }] }], tools: [{ type: 'file_search', vector_store_ids: ['vs_1'] }], stream: false, store: true }),
  route('POST /v1/conversations', { items: [{ type: 'message', role: 'user', content: 'hi' }], metadata: { topic: 't' } }),
  route('POST /v1/telemetry/events', { event: { type: 'unstructured_log', trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331', timestamp: '2026-12-01T10:00:00Z', message: 'm', severity: 'info' }, ttl_seconds: 60 }),
  route('POST /v1/telemetry/traces', { attribute_filters: [{ key: 'model', op: 'eq', value: 'llama3.2:3b' }, { key: 'status', op: 'gt', value: 199 }], limit: 10, offset: 0, order_by: ['-start_time'] }),
  route('POST /v1/telemetry/spans', { attribute_filters: [{ key: 'a', op: 'ne', value: 'b' }], attributes_to_return: ['model'], max_depth: 3 }),
  route('POST /v1/telemetry/spans/0000000000000001/tree', { attributes_to_return: ['model'], max_depth: 2 }),
  route('POST /v1/telemetry/metrics/prompt_tokens', { query_type: 'range', start_time: 1700000000, end_time: 1800000000, granularity: '1h', label_matchers: [{ name: 'model_id', value: 'llama3.2:3b', operator: '=' }] }),
  route('POST /v1/tool-runtime/invoke', { tool_name: 'knowledge_search', kwargs: { query: 'q', vector_db_ids: ['kb'] } }),
  route('POST /v1/tool-runtime/rag-tool/insert', { documents: [{ document_id: 'd', content: 'text', mime_type: 'text/plain', metadata: {} }], vector_db_id: 'kb', chunk_size_in_tokens: 64 }),
  route('POST /v1/tool-runtime/rag-tool/query', { content: 'q', vector_db_ids: ['kb'], query_config: { max_chunks: 2, mode: 'hybrid', ranker: { type: 'rrf', impact_factor: 60 } } }),
  route('GET /v1/openai/v1/chat/completions', 'limit=5&order=asc&model=llama3.2:3b&after=chatcmpl-1'),
  route('GET /v1/openai/v1/vector_stores', 'limit=2&order=desc&before=vs_1'),
  route('GET /v1/agents/{agent}/session/{session}', 'turn_ids=a&turn_ids=b'),
  route('GET /v1/openai/v1/files', 'purpose=assistants&limit=1&order=asc'));

// --- run_yaml: the configuration guide's examples and our distributions
for (const dir of [path.join(root, '..', 'shared', 'examples'), path.join(root, 'tests', 'data', 'guide')]) {
  let files = [];
  try { files = readdirSync(dir).filter((f) => f.endsWith('.yaml')); } catch { continue; }
  for (const f of files) add('run_yaml', readFileSync(path.join(dir, f)));
}
for (const d of readdirSync(path.join(root, 'distributions'))) {
  add('run_yaml', readFileSync(path.join(root, 'distributions', d, 'run.yaml')));
}
add('run_yaml', `version: 2
image_name: fuzz
apis: [inference, telemetry]
providers:
  inference:
  - {provider_id: ollama, provider_type: remote::ollama, config: {url: "\${env.OLLAMA_URL:=http://localhost:11434}"}}
  telemetry:
  - {provider_id: mr, provider_type: inline::meta-reference, config: {sinks: "sqlite,otel_trace", otel_trace_endpoint: "http://c:4318/v1/traces", service_name: "\${env.SVC:+x}"}}
metadata_store: {type: redis, url: "redis://:pw@localhost:6379/2", namespace: ns, refresh_interval_ms: 500}
inference_store: {type: postgres, host: db, port: 5432, db: ls, user: u, password: "\${env.PW:=p}", ssl_mode: verify-full}
server:
  port: \${env.PORT:=8321}
  metrics: {enabled: true, port: 9090, require_auth: false, principal_labels: false}
  quota:
    kvstore: {type: sqlite, db_path: /tmp/q.db}
    anonymous_max_requests: 100
    authenticated_max_requests: 1000
    period: day
`);

// --- jwt (first line: a JWKS; the rest: a token)
const b64u = (b) => Buffer.from(b).toString('base64url');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const jwk = (k, kid, alg) => ({ ...k.publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' });
const jwks = json({ keys: [jwk(rsa, 'r1', 'RS256'), jwk(ec, 'e1', 'ES256'), jwk(ed, 'd1', 'EdDSA'), { kty: 'oct', k: 'c2VjcmV0', kid: 'h1' }] });
const claims = { iss: 'https://idp.test', aud: ['llama-stack', 'x'], sub: 'alice', exp: 1800000600, iat: 1799999000, nbf: 1799999000, scope: 'inference vector_io', groups: ['ops'] };
const sign = (header, payload, key, opts) => {
  const input = `${b64u(json(header))}.${b64u(json(payload))}`;
  const signer = createSign(opts.hash);
  signer.update(input);
  return `${input}.${b64u(signer.sign({ key, ...opts.sign }))}`;
};
add('jwt',
  `${jwks}\n${sign({ alg: 'RS256', kid: 'r1', typ: 'JWT' }, claims, rsa.privateKey, { hash: 'SHA256' })}`,
  `${jwks}\n${sign({ alg: 'ES256', kid: 'e1' }, claims, ec.privateKey, { hash: 'SHA256', sign: { dsaEncoding: 'ieee-p1363' } })}`,
  `${jwks}\n${sign({ alg: 'PS256', kid: 'r1' }, claims, rsa.privateKey, { hash: 'SHA256', sign: { padding: 6 } })}`,
  `${jwks}\n${b64u(json({ alg: 'none' }))}.${b64u(json(claims))}.`,
  `${jwks}\n${b64u(json({ alg: 'HS256', kid: 'h1', crit: ['b64'] }))}.${b64u(json(claims))}.${b64u('sig')}`);

// --- auth_answers (first byte: 0 introspection, 1 custom, 2 JWKS; status 200 unless byte/3 % 4 == 0)
add('auth_answers',
  withByte(3, json({ active: true, sub: 'alice', scope: 'inference agents', exp: 1900000000, groups: ['ops', 'dev'], username: 'a' })),
  withByte(6, json({ active: false })),
  withByte(4, json({ principal: 'bob', attributes: { roles: ['admin'], teams: 'a b' } })),
  withByte(1, json({ detail: 'no' })),
  withByte(5, jwks));

// --- access_policy
add('access_policy', `- forbid: {actions: [delete]}
  when: user with ops not in teams
  description: only ops may delete
- permit: {actions: [create, read, delete]}
  when: user with ops in teams
- permit: {actions: [read], resource: "model::*"}
- permit: {principal: alice, actions: [update]}
  unless: [user is owner, user in owners roles]
- forbid: {actions: [create]}
`, 'user with admin in roles\nuser is not owner\nuser in owners namespaces\nuser not in owners teams\n');

// --- sse_stream
const chunk = (delta, extra = {}) => `data: ${json({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: null }], ...extra })}\n\n`;
add('sse_stream',
  chunk({ role: 'assistant' }) + chunk({ content: 'Hel' }) + ': comment\n' + 'event: x\nid: 1\nretry: 5\n' + chunk({ content: 'lo' }) +
    chunk({ tool_calls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a"' } }] }) +
    chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }) +
    `data: ${json({ id: 'chatcmpl-1', choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } })}\n\ndata: [DONE]\n\n`,
  'data: {"id":"cmpl-1","object":"text_completion","choices":[{"index":0,"text":"a","finish_reason":"length"}]}\r\n\r\ndata: {"a":\ndata: 1}\n\n');

// --- ndjson_stream
const rec = (v) => `${json(v)}\n`;
add('ndjson_stream',
  rec({ model: 'llama3.2:3b', created_at: '2026-01-01T00:00:00Z', message: { role: 'assistant', content: 'Hel' }, done: false }) +
    rec({ model: 'llama3.2:3b', message: { role: 'assistant', content: '', tool_calls: [{ function: { name: 'f', arguments: { a: 1 } } }] }, done: false }) +
    rec({ model: 'llama3.2:3b', message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', prompt_eval_count: 5, eval_count: 2 }),
  json({ model: 'm', response: 'text', done: true, done_reason: 'length', prompt_eval_count: 1, eval_count: 1 }),
  json({ model: 'm', embeddings: [[0.1, 0.2], [0.3, 0.4]], prompt_eval_count: 2 }),
  '{"error":"model not found"}\n');

// --- llama_guard
add('llama_guard', 'safe', 'unsafe\nS1', '\n\nunsafe\nS1,S10,S14', 'unsafe', 'I cannot answer',
  json({ choices: [{ index: 0, message: { role: 'assistant', content: 'unsafe\nS2' }, logprobs: { content: [{ token: '\n', logprob: -0.1, top_logprobs: [] }, { token: 'unsafe', logprob: -0.2, top_logprobs: [{ token: 'unsafe', logprob: -0.2 }, { token: 'safe', logprob: -1.8 }] }] } }] }));

// --- multipart (first line: the Content-Type value)
const part = (headers, body) => `--XyZ\r\n${headers.join('\r\n')}\r\n\r\n${body}\r\n`;
add('multipart',
  'multipart/form-data; boundary=XyZ\n' + part(['Content-Disposition: form-data; name="purpose"'], 'assistants') +
    part(['Content-Disposition: form-data; name="file"; filename="a b.txt"', 'Content-Type: text/plain'], 'hello\r\n--Xy not a boundary') + '--XyZ--\r\n',
  'multipart/form-data; boundary="quoted=b"\npreamble\r\n--quoted=b\r\ncontent-disposition: form-data; name=x; filename*=UTF-8\'\'%C3%BC.txt\r\n\r\n\r\n--quoted=b--');

// --- mcp_messages (first byte: 0 JSON, 1 SSE)
const rpc = (id, result) => json({ jsonrpc: '2.0', id, result });
add('mcp_messages',
  withByte(0, rpc(1, { protocolVersion: '2025-03-26', capabilities: { tools: {} }, serverInfo: { name: 's', version: '1' } })),
  withByte(0, json([{ jsonrpc: '2.0', method: 'notifications/progress', params: {} }, JSON.parse(rpc(1, { tools: [{ name: 't', inputSchema: { type: 'object' } }] }))])),
  withByte(1, `event: message\ndata: ${json({ jsonrpc: '2.0', method: 'ping', id: 9 })}\n\nevent: message\ndata: ${rpc(1, { content: [{ type: 'text', text: 'ok' }], isError: false })}\n\n`),
  withByte(0, json({ jsonrpc: '2.0', id: 1, error: { code: -32602, message: 'bad params', data: {} } })));

// --- documents (first byte: 0 .pdf, 1 .html, 2 .txt, 3 .json, 4 no extension)
add('documents',
  Buffer.concat([Buffer.from([0]), makePdf('Hello from a PDF')]),
  withByte(1, '<!DOCTYPE html><html><head><title>T</title><style>p{}</style><script>x()</script></head><body><h1>Title</h1><p>A &amp; B &lt;c&gt; &#233; &#x263A; &nbsp;</p><ul><li>one<li>two</ul><br/>end</body></html>'),
  withByte(2, 'plain text\nwith lines\n'),
  withByte(4, '%PDF-1.7\n1 0 obj << >> endobj\n'));

// --- resp_replies (first byte: the operation; "|||" separates the answers to each round trip)
const bulk = (v) => (v === null ? '$-1\r\n' : `$${Buffer.byteLength(v)}\r\n${v}\r\n`);
const arr = (...items) => `*${items.length}\r\n${items.join('')}`;
add('resp_replies',
  withByte(0, bulk('value')), withByte(0, bulk(null)), withByte(0, '-ERR wrong type\r\n'),
  withByte(1, '+OK\r\n'), withByte(2, ':1\r\n'),
  withByte(3, arr(bulk('a'), bulk('b')) + arr(bulk('1'), bulk(null))),
  withByte(3, `${arr(bulk('a'), bulk('b'))}|||${arr(bulk('1'), bulk('2'))}`),
  withByte(4, arr()), withByte(5, ':42\r\n'),
  withByte(6, `+OK\r\n${bulk('old')}|||${arr('+OK\r\n', '+QUEUED\r\n')}+QUEUED\r\n${arr(bulk('oldx'))}`),
  withByte(6, `+OK\r\n${bulk(null)}|||+OK\r\n+QUEUED\r\n*-1\r\n`),
  withByte(7, ':3\r\n'), withByte(8, `+OK\r\n${bulk('t')}|||+OK\r\n+QUEUED\r\n*1\r\n:1\r\n`));

rmSync(corpus, { recursive: true, force: true });
for (const [target, inputs] of Object.entries(seeds)) {
  const dir = path.join(corpus, target);
  mkdirSync(dir, { recursive: true });
  for (const input of inputs) {
    writeFileSync(path.join(dir, createHash('sha1').update(input).digest('hex').slice(0, 16)), input);
  }
}
console.log(Object.entries(seeds).map(([t, i]) => `${t}: ${i.length}`).join('\n'));
