// OTLP export (otel_trace, otel_metric sinks): an OTLP/HTTP receiver in the
// test decodes what the server sends with the OpenTelemetry project's own
// generated protocol definitions (@opentelemetry/otlp-transformer), through
// a collector that first answers 503 (retried) and then goes away (requests
// still served, the lost spans counted).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import http from 'node:http';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { startFakeModelServer } from './lib/fake_model_server.mjs';
import { startIdentityServer } from './lib/identity_server.mjs';
import { startServer } from './lib/server.mjs';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const { opentelemetry: otel } = require(path.join(here, 'node_modules/@opentelemetry/otlp-transformer/build/src/generated/root.js'));
const TraceRequest = otel.proto.collector.trace.v1.ExportTraceServiceRequest;
const MetricsRequest = otel.proto.collector.metrics.v1.ExportMetricsServiceRequest;
const SpanKind = otel.proto.trace.v1.Span.SpanKind;
const guide = path.join(here, '..', 'data', 'guide', 'guide-ollama.yaml');

const hex = (bytes) => (bytes ? Buffer.from(bytes).toString('hex') : '');
const attrs = (list) => Object.fromEntries(list.map((kv) => [kv.key, kv.value.stringValue ?? kv.value.intValue?.toNumber?.() ?? kv.value.intValue ?? kv.value.doubleValue ?? kv.value.boolValue]));

async function startReceiver({ failFirst = 0 } = {}) {
  const spans = [];
  const metrics = [];
  const headers = [];
  let failures = failFirst;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      headers.push(req.headers);
      if (failures > 0) {
        failures--;
        res.writeHead(503).end();
        return;
      }
      const body = Buffer.concat(chunks);
      assert.equal(req.headers['content-type'], 'application/x-protobuf');
      if (req.url === '/v1/traces') {
        const decoded = TraceRequest.decode(body);
        for (const rs of decoded.resourceSpans) {
          for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ resource: attrs(rs.resource.attributes), span: s });
        }
      } else if (req.url === '/v1/metrics') {
        metrics.push(MetricsRequest.decode(body));
      }
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, spans, metrics, headers, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

async function until(fn, what) {
  for (let i = 0; i < 100; i++) {
    const v = fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('spans and metrics reach an OTLP receiver, decoded with the OpenTelemetry definitions; a collector that goes away costs requests nothing', async () => {
  const fake = await startFakeModelServer();
  const idp = await startIdentityServer();
  const token = idp.sign({ sub: 'alice' });
  const receiver = await startReceiver({ failFirst: 2 });
  const state = await mkdtemp(path.join(os.tmpdir(), 'otlp-'));
  const yaml = (await readFile(guide, 'utf8'))
    .replace('https://my-token-issuing-svc.com/jwks', idp.jwksUrl)
    .replace(/  telemetry:\n  - provider_id: meta-reference\n    provider_type: inline::meta-reference\n    config: \{\}\n/,
      `  telemetry:\n  - provider_id: meta-reference\n    provider_type: inline::meta-reference\n    config:\n      service_name: guide-test\n      sinks: [sqlite, otel_trace, otel_metric]\n      otel_trace_endpoint: ${receiver.url}/v1/traces\n      otel_metric_endpoint: ${receiver.url}/v1/metrics\n`);
  assert.match(yaml, /otel_trace_endpoint/);
  const server = await startServer(yaml, {
    env: {
      INFERENCE_MODEL: 'llama3.2:3b', OLLAMA_URL: fake.baseUrl, SQLITE_STORE_DIR: state,
      OTEL_METRIC_EXPORT_INTERVAL: '300', OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=acme,x-note=a%20b',
    },
  });
  try {
    const res = await fetch(`${server.baseUrl}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'hello otlp' }] }),
    });
    assert.equal(res.status, 200);
    const traceId = res.headers.get('x-trace-id');
    const root = await until(() => receiver.spans.find((s) => hex(s.span.traceId) === traceId && s.span.name === '/v1/chat/completions'), 'the root span');
    assert.equal(root.span.kind, SpanKind.SPAN_KIND_SERVER);
    assert.equal(root.resource['service.name'], 'guide-test');
    assert.equal(hex(root.span.parentSpanId), '');
    const rootAttrs = attrs(root.span.attributes);
    assert.equal(rootAttrs['http.method'], 'POST');
    assert.equal(rootAttrs['http.status_code'], 200);
    assert.equal(rootAttrs.principal, 'alice');
    assert.ok(!('__owner__' in rootAttrs) && !('__root__' in rootAttrs));
    assert.ok(root.span.endTimeUnixNano.toNumber() >= root.span.startTimeUnixNano.toNumber());
    const model = receiver.spans.find((s) => hex(s.span.traceId) === traceId && s.span.name === 'inference.chat_completion');
    assert.ok(model, 'the model call span');
    assert.equal(model.span.kind, SpanKind.SPAN_KIND_CLIENT);
    assert.equal(hex(model.span.parentSpanId), hex(root.span.spanId));
    assert.equal(attrs(model.span.attributes).model, 'llama3.2:3b');
    // The two 503s were retried; our headers went with every request.
    assert.ok(receiver.headers.length >= 3);
    assert.ok(receiver.headers.every((h) => h['x-tenant'] === 'acme' && h['x-note'] === 'a b'));

    const counted = await until(() => {
      for (const m of receiver.metrics) {
        for (const rm of m.resourceMetrics) {
          for (const sm of rm.scopeMetrics) {
            const metric = sm.metrics.find((x) => x.name === 'llama_stack_http_requests_total');
            const point = metric?.sum?.dataPoints.find((p) => attrs(p.attributes).route === '/v1/chat/completions');
            if (point) return { metric, point };
          }
        }
      }
      return null;
    }, 'the request counter');
    assert.equal(counted.metric.sum.isMonotonic, true);
    assert.equal(counted.metric.sum.aggregationTemporality, otel.proto.metrics.v1.AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE);
    assert.equal(counted.point.asDouble, 1);
    const histogram = receiver.metrics.flatMap((m) => m.resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics)))
      .find((x) => x.name === 'llama_stack_upstream_request_duration_seconds' && x.histogram);
    assert.ok(histogram, 'the upstream duration histogram');
    const hp = histogram.histogram.dataPoints[0];
    assert.equal(hp.bucketCounts.length, hp.explicitBounds.length + 1);
    assert.equal(hp.bucketCounts.reduce((a, b) => a + b.toNumber(), 0), hp.count.toNumber());

    // The collector goes away: requests are still served, and the spans that
    // could not be sent are counted once the retries are given up.
    await receiver.close();
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${server.baseUrl}/v1/models`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(r.status, 200);
    }
    let dropped = 0;
    for (let i = 0; i < 150 && dropped === 0; i++) {
      const text = await (await fetch(`${server.baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
      const line = text.split('\n').find((l) => l.startsWith('llama_stack_telemetry_spans_dropped_total{reason="otlp_export_failed"}'));
      dropped = line ? Number(line.split(' ').pop()) : 0;
      if (dropped === 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(dropped >= 3, `dropped ${dropped}`);
  } finally {
    await server.stop();
    await fake.stop();
    await idp.stop();
    await receiver.close();
  }
});
