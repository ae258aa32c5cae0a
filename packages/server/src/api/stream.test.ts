/** The stream writer against a real listening server: SSE and NDJSON framing, headers, heartbeats, disconnects. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { probeModule, startTestPlatform, type TestPlatform } from '../../test/helpers.js';
import { defineRoute } from './route.js';

let disconnected = 0;
let lateWritten = false;
const streamRoute = (path: string, handler: (signal: AbortSignal) => AsyncIterable<{ id?: string; data: unknown }>, heartbeatMs?: number) =>
  defineRoute({
    method: 'GET',
    path,
    access: 'public',
    tags: ['probe'],
    summary: path,
    responses: { 200: z.object({}) },
    stream: z.unknown(),
    handler: ({ stream, signal }) => stream(handler(signal), { heartbeatMs }),
  });

const routes = [
  streamRoute(
    '/stream',
    async function* () {
      for (let i = 1; i <= 3; i++) {
        yield { id: String(i), data: { n: i, text: 'a}{b' } };
        await new Promise((r) => setTimeout(r, 40));
      }
    },
    30,
  ),
  streamRoute('/slow-start', async function* () {
    await new Promise((r) => setTimeout(r, 400));
    lateWritten = true;
    yield { id: '1', data: 'late' };
  }),
  streamRoute('/forever', async function* (signal) {
    signal.addEventListener('abort', () => disconnected++);
    while (!signal.aborted) {
      yield { data: 'tick' };
      await new Promise((r) => setTimeout(r, 10));
    }
  }),
];

let p: TestPlatform;
beforeAll(async () => {
  p = await startTestPlatform({ extraModules: probeModule(routes), listen: true });
});
afterAll(() => p.stop());

describe('stream writer', () => {
  it('writes SSE with ids, heartbeats and no-buffering headers', async () => {
    const res = await fetch(`${p.url}/v1/stream`);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('cache-control')).toMatch(/no-cache/);
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    expect(res.headers.get('x-request-id')).toBeTruthy();
    const text = await res.text();
    expect(text).toContain('id: 1\ndata: {"n":1,"text":"a}{b"}\n\n');
    expect(text).toContain('id: 3\ndata: {"n":3');
    expect(text).toContain(': heartbeat\n\n');
  });

  it('writes NDJSON when asked', async () => {
    const res = await fetch(`${p.url}/v1/stream`, { headers: { accept: 'application/x-ndjson' } });
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await res.text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.n)).toEqual([1, 2, 3]);
  });

  it('sends the headers on their own when the first chunk is slow to come', async () => {
    lateWritten = false;
    const res = await fetch(`${p.url}/v1/slow-start`);
    expect(res.status).toBe(200);
    // Ordering, not a clock: the headers are here before the first chunk was even written.
    expect(lateWritten).toBe(false);
    expect(await res.text()).toBe('id: 1\ndata: "late"\n\n');
  });

  it('signals the producer when the client disconnects', async () => {
    const ac = new AbortController();
    const res = await fetch(`${p.url}/v1/forever`, { signal: ac.signal });
    const reader = res.body!.getReader();
    await reader.read();
    ac.abort();
    for (let i = 0; i < 50 && disconnected === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(disconnected).toBe(1);
  });
});
