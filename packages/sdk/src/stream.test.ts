import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CodeMieApiError, CodeMieClient, CodeMieError, JsonSequenceParser, NotFoundError, SseParser, type StreamChunk } from './index.js';
import { REALM, send, startFake, writeSlowly, type FakePlatform } from './test-support/fake-server.js';

let fake: FakePlatform;
let client: CodeMieClient;

beforeEach(async () => {
  fake = await startFake();
  client = new CodeMieClient({
    codemie_api_domain: fake.apiDomain,
    auth_server_url: fake.authUrl,
    auth_realm_name: REALM,
    username: 'alice',
    password: 'secret',
  });
});

afterEach(async () => {
  await fake.stop();
});

const thought = (message: string) => ({ id: 't1', parent_id: null, in_progress: true, message, author_type: 'Tool', author_name: 'Codemie Thoughts' });

async function collect(stream: AsyncIterable<StreamChunk>): Promise<StreamChunk[]> {
  const out: StreamChunk[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

describe('assistants.chat streaming', () => {
  it('parses Server-Sent Events, ignoring heartbeat comments and id lines, across split reads', async () => {
    const c1 = JSON.stringify({ generated_chunk: null, thought: thought('Hel'), last: false });
    const c2 = JSON.stringify({ generated_chunk: null, thought: thought('lo! {"x": 1}'), last: false });
    const c3 = JSON.stringify({ generated: 'Hello! {"x": 1}', generated_chunk: '', last: true, time_elapsed: 1.5 });
    fake.route('POST', '/v1/assistants/:id/model', (_req, res) =>
      writeSlowly(res, 'text/event-stream; charset=utf-8', [
        ': connected\n\n',
        `id: 1\ndata: ${c1.slice(0, 20)}`,
        `${c1.slice(20)}\n\n`,
        ': heartbeat\n\n',
        `id: 2\r\ndata: ${c2}\r\n\r\n`,
        ':ping\n\n',
        `id: 3\nevent: message\ndata: ${c3}\n\n`,
      ]),
    );
    const stream = await client.assistants.chat('a1', { text: 'hi', stream: true });
    expect(stream.status).toBe(200);
    const chunks = await collect(stream);
    expect(chunks).toEqual([JSON.parse(c1), JSON.parse(c2), JSON.parse(c3)]);
    expect(chunks.at(-1)!.last).toBe(true);
    const req = fake.last();
    expect(req.path).toBe('/code-assistant-api/v1/assistants/a1/model');
    expect(req.body).toEqual({ text: 'hi', stream: true });
    expect(req.headers.accept).toContain('text/event-stream');
  });

  it('joins multi-line data fields of one event', async () => {
    fake.route('POST', '/v1/assistants/:id/model', (_req, res) =>
      writeSlowly(res, 'text/event-stream', ['data: {"generated":\ndata: "two lines",\ndata: "last": true}\n\n']),
    );
    const chunks = await collect(await client.assistants.chat('a1', { text: 'hi', stream: true }));
    expect(chunks).toEqual([{ generated: 'two lines', last: true }]);
  });

  it('parses NDJSON', async () => {
    const lines = [{ thought: thought('a') }, { thought: thought('b') }, { generated: 'ab', last: true }];
    const body = lines.map((l) => JSON.stringify(l) + '\n').join('');
    fake.route('POST', '/v1/assistants/:id/model', (_req, res) =>
      writeSlowly(res, 'application/x-ndjson', [body.slice(0, 7), body.slice(7, 50), body.slice(50)]),
    );
    expect(await collect(await client.assistants.chat('a1', { text: 'x', stream: true }))).toEqual(lines);
  });

  it('parses concatenated JSON objects with no separator (reference backend), braces inside strings included', async () => {
    const objs = [
      { thought: thought('}{ not a boundary'), last: false },
      { thought: thought('escaped \\" quote and \\\\'), last: false },
      { generated: 'done {"a":[1,2]}', last: true, debug: {} },
    ];
    const body = objs.map((o) => JSON.stringify(o)).join('');
    const pieces: string[] = [];
    for (let i = 0; i < body.length; i += 13) pieces.push(body.slice(i, i + 13));
    fake.route('POST', '/v1/assistants/:id/model', (_req, res) => writeSlowly(res, 'application/x-ndjson', pieces, 1));
    expect(await collect(await client.assistants.chat('a1', { text: 'x', stream: true }))).toEqual(objs);
  });

  it('sniffs the format when the content type says nothing', async () => {
    fake.route('POST', '/v1/assistants/:id/model', (_req, res) => writeSlowly(res, null, ['\n  {"a":1}', '{"b":2}\n']));
    expect(await collect(await client.assistants.chat('a1', { text: 'x', stream: true }))).toEqual([{ a: 1 }, { b: 2 }]);
    fake.route('POST', '/v1/assistants/:id/model', (_req, res) => writeSlowly(res, 'application/octet-stream', [': hb\n\n', 'data: {"c":3}\n\n']));
    expect(await collect(await client.assistants.chat('a1', { text: 'x', stream: true }))).toEqual([{ c: 3 }]);
  });

  it('rejects the call itself when the server answers an error before streaming', async () => {
    fake.json('POST', '/v1/assistants/:id/model', { error: { message: 'Assistant not found', details: "No assistant found with the id 'zz'.", help: null } }, 404);
    const err = await client.assistants.chat('zz', { text: 'x', stream: true }).catch((e) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toBe('Assistant not found');
  });

  it('raises an SSE "error" event as CodeMieApiError', async () => {
    fake.route('POST', '/v1/assistants/:id/model', (_req, res) =>
      writeSlowly(res, 'text/event-stream', ['data: {"generated_chunk":"a"}\n\n', 'event: error\ndata: {"error":{"message":"LLM failed","details":"rate limited","help":null}}\n\n']),
    );
    const stream = await client.assistants.chat('a1', { text: 'x', stream: true });
    const seen: StreamChunk[] = [];
    const err = await (async () => {
      for await (const c of stream) seen.push(c);
    })().catch((e) => e);
    expect(seen).toEqual([{ generated_chunk: 'a' }]);
    expect(err).toBeInstanceOf(CodeMieApiError);
    expect(err.message).toBe('LLM failed');
    expect(err.details).toBe('rate limited');
  });

  it('stops the download when the consumer breaks out early', async () => {
    let closed = false;
    fake.route('POST', '/v1/assistants/:id/model', async (_req, res) => {
      res.on('close', () => (closed = true));
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      for (let i = 0; i < 200 && !closed; i++) {
        res.write(`data: {"n":${i}}\n\n`);
        await new Promise((r) => setTimeout(r, 10));
      }
      res.end();
    });
    const stream = await client.assistants.chat('a1', { text: 'x', stream: true });
    const got: number[] = [];
    for await (const c of stream) {
      got.push(c.n as number);
      if (got.length === 2) break;
    }
    expect(got).toEqual([0, 1]);
    await new Promise((r) => setTimeout(r, 100));
    expect(closed).toBe(true);
  });

  it('non-streaming chat returns the JSON answer and sends extra headers', async () => {
    fake.route('POST', '/v1/assistants/:id/model', (req, res) =>
      send(res, 200, { generated: 'Hello!', timeElapsed: 1.1, tokensUsed: 5, usage: { input_tokens: 3, output_tokens: 2 }, thoughts: [], taskId: null, success: true, echo: req.body }),
    );
    const answer = await client.assistants.chat('a1', { text: 'hi', llmModel: 'gpt-4o', propagate_headers: true }, { 'X-Tenant-ID': 'acme-corp' });
    expect(answer.generated).toBe('Hello!');
    expect(answer.echo).toEqual({ text: 'hi', llmModel: 'gpt-4o', propagate_headers: true });
    expect(fake.last().headers['x-tenant-id']).toBe('acme-corp');
    expect(fake.last().headers.accept).toBe('application/json');
  });

  it('stream.toArray() and a slug call', async () => {
    fake.route('POST', '/v1/assistants/slug/:slug/model', (_req, res) => writeSlowly(res, 'application/x-ndjson', ['{"a":1}\n{"b":2}\n']));
    const s = await client.assistants.chatBySlug('my-helper', { text: 'x', stream: true });
    expect(await s.toArray()).toEqual([{ a: 1 }, { b: 2 }]);
    expect(fake.last().path).toBe('/code-assistant-api/v1/assistants/slug/my-helper/model');
  });
});

describe('parsers', () => {
  it('JsonSequenceParser handles NDJSON, back-to-back objects, arrays and scalars on lines', () => {
    const p = new JsonSequenceParser();
    expect(p.push('{"a":')).toEqual([]);
    expect(p.push('1}{"b":"}{"}\n[1,2]')).toEqual([{ a: 1 }, { b: '}{' }, [1, 2]]);
    expect(p.push('\n42\n"s"\n')).toEqual([42, 's']);
    expect(p.end()).toEqual([]);
  });

  it('JsonSequenceParser rejects a stream that ends inside an object', () => {
    const p = new JsonSequenceParser();
    p.push('{"a":1}{"b":');
    expect(() => p.end()).toThrow(CodeMieError);
  });

  it('SseParser follows the event-stream rules (CRLF, CR, comments, id, field without colon)', () => {
    const p = new SseParser();
    const events = [
      ...p.push(': comment\r\nid: 7\r\nevent: update\r\ndata: one\r\ndata:two\r\n\r\n'),
      ...p.push('data\n\n'),
      ...p.push('data: x\r'),
      ...p.push('\rdata: tail'),
      ...p.end(),
    ];
    expect(events).toEqual([
      { event: 'update', data: 'one\ntwo', id: '7' },
      { event: 'message', data: '', id: '7' },
      { event: 'message', data: 'x', id: '7' },
      { event: 'message', data: 'tail', id: '7' },
    ]);
    expect(p.lastEventId).toBe('7');
  });
});
