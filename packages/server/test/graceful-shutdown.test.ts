/** Shutdown lets in-flight requests finish and refuses new work. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineRoute } from '../src/api/route.js';
import { probeModule, startTestPlatform } from './helpers.js';

const slow = defineRoute({
  method: 'GET',
  path: '/slow',
  access: 'public',
  tags: ['probe'],
  summary: 'slow',
  responses: { 200: z.object({ done: z.boolean() }) },
  async handler() {
    await new Promise((r) => setTimeout(r, 500));
    return { done: true };
  },
});

describe('graceful shutdown', () => {
  it('finishes an in-flight request before closing', async () => {
    const p = await startTestPlatform({ extraModules: probeModule([slow]), listen: true });
    const inFlight = fetch(`${p.url}/v1/slow`).then(async (r) => ({ status: r.status, body: await r.json() }));
    await new Promise((r) => setTimeout(r, 100));
    const closing = p.stop();
    const res = await inFlight;
    expect(res).toEqual({ status: 200, body: { done: true } });
    await closing;
    await expect(fetch(`${p.url}/v1/healthcheck`)).rejects.toThrow();
  });
});
