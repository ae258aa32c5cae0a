/** Shutdown lets in-flight requests finish and refuses new work. */
import { describe, expect, it } from 'vitest';
import type { DomainModule } from '../src/context.js';
import { healthModule } from '../src/health/routes.js';
import { startTestPlatform } from './helpers.js';

const slow: DomainModule = {
  name: 'slow',
  apiRoutes(app) {
    app.get('/slow', { config: { public: true } }, async () => {
      await new Promise((r) => setTimeout(r, 500));
      return { done: true };
    });
  },
};

describe('graceful shutdown', () => {
  it('finishes an in-flight request before closing', async () => {
    const p = await startTestPlatform({ modules: [healthModule, slow], listen: true });
    const inFlight = fetch(`${p.url}/v1/slow`).then(async (r) => ({ status: r.status, body: await r.json() }));
    await new Promise((r) => setTimeout(r, 100));
    const closing = p.stop();
    const res = await inFlight;
    expect(res).toEqual({ status: 200, body: { done: true } });
    await closing;
    await expect(fetch(`${p.url}/v1/healthcheck`)).rejects.toThrow();
  });
});
