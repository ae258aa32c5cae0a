/**
 * A bare LLM gateway, the yardstick for bench/model-overhead.ts: what a minimal Node.js service in
 * front of the same LLM server costs on the same machine in the same run. It does what every
 * gateway must (parse the JSON body, check a static key, call the LLM over a pooled keep-alive
 * connection, stream or collect its answer, reply), and nothing the platform adds on top: no token
 * verification, no assistant lookup, no persistence, no fair-use limits, no metrics, no logging.
 *
 *   node bench/reference-gateway.mjs <llm base URL> <llm api key>
 *   # prints its own URL on stdout once listening; POST /model {"text": "...", "stream": false}
 *   # with "authorization: Bearer gateway-key"
 *
 * Not shipped and not used by the product; see bench/README.md for how it is used.
 */
import http from 'node:http';
import { Pool } from 'undici';

const [llmBase, llmKey] = process.argv.slice(2);
if (!llmBase || !llmKey) {
  console.error('usage: node bench/reference-gateway.mjs <llm base URL> <llm api key>');
  process.exit(2);
}
const upstream = new URL(`${llmBase.replace(/\/$/, '')}/chat/completions`);
const pool = new Pool(upstream.origin, { connections: 64, keepAliveTimeout: 10_000 });
const KEY = 'Bearer gateway-key';

function fail(res, status, message) {
  const body = JSON.stringify({ error: { message } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** The `data:` payloads of complete SSE lines in `text`; returns the unfinished tail. */
function eachEvent(text, onData) {
  let start = 0;
  for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
    const line = text.slice(start, nl).trimEnd();
    start = nl + 1;
    if (line.startsWith('data: {')) onData(JSON.parse(line.slice(6)));
  }
  return text.slice(start);
}

async function handle(req, res, raw) {
  if (req.headers.authorization !== KEY) return fail(res, 401, 'bad key');
  let body;
  try {
    body = JSON.parse(raw);
  } catch {
    return fail(res, 400, 'body is not JSON');
  }
  if (typeof body.text !== 'string') return fail(res, 400, 'text is required');
  const started = performance.now();
  const payload = JSON.stringify({
    model: 'test-model',
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'system', content: 'You are fast.' }, { role: 'user', content: body.text }],
  });
  const up = await pool.request({
    path: upstream.pathname,
    method: 'POST',
    headers: { authorization: `Bearer ${llmKey}`, 'content-type': 'application/json' },
    body: payload,
  });
  if (up.statusCode !== 200) {
    await up.body.dump();
    return fail(res, 502, `LLM answered ${up.statusCode}`);
  }
  up.body.setEncoding('utf8');
  let generated = '';
  let tokens = 0;
  let tail = '';
  if (body.stream) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let id = 0;
    for await (const piece of up.body) {
      let out = '';
      tail = eachEvent(tail + piece, (ev) => {
        const delta = ev.choices?.[0]?.delta?.content;
        if (delta) {
          generated += delta;
          out += `id: ${++id}\ndata: ${JSON.stringify({ generated_chunk: delta, last: false })}\n\n`;
        }
      });
      if (out) res.write(out);
    }
    res.end(`id: ${++id}\ndata: ${JSON.stringify({ generated, last: true })}\n\n`);
    return;
  }
  for await (const piece of up.body) {
    tail = eachEvent(tail + piece, (ev) => {
      generated += ev.choices?.[0]?.delta?.content ?? '';
      if (ev.usage) tokens = ev.usage.total_tokens;
    });
  }
  const out = JSON.stringify({
    generated,
    timeElapsed: (performance.now() - started) / 1000,
    tokensUsed: tokens,
    thoughts: [],
    taskId: null,
    success: true,
  });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
  res.end(out);
}

const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/model') return fail(res, 404, 'POST /model only');
  let raw = '';
  req.setEncoding('utf8');
  req.on('data', (c) => (raw += c));
  req.on('end', () => {
    handle(req, res, raw).catch((err) => {
      if (!res.headersSent) fail(res, 502, err.message);
      else res.destroy(err);
    });
  });
});
server.keepAliveTimeout = 10_000;
server.listen(0, '127.0.0.1', () => console.log(`http://127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void pool.close().finally(() => process.exit(0));
});
