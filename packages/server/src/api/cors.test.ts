/** CORS: browser origins from CODEMIE_CORS_ORIGINS get preflight answers and headers; others get none. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../../test/helpers.js';

const ORIGIN = 'https://app.example.com';
let withCors: TestPlatform;
let withoutCors: TestPlatform;
beforeAll(async () => {
  withCors = await startTestPlatform({ listen: true, config: { corsOrigins: [ORIGIN] } });
  withoutCors = await startTestPlatform({ listen: true });
});
afterAll(async () => {
  await withCors?.stop();
  await withoutCors?.stop();
});

const preflight = (base: string, origin: string) =>
  fetch(`${base}/v1/assistants`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
  });

describe('CORS', () => {
  it('answers a preflight from a configured origin, before authentication', async () => {
    const res = await preflight(withCors.url, ORIGIN);
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-allow-methods')).toMatch(/POST/);
  });

  it('exposes the headers clients read on actual requests', async () => {
    const res = await fetch(`${withCors.url}/v1/healthcheck`, { headers: { origin: ORIGIN } });
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(res.headers.get('access-control-expose-headers')).toMatch(/X-Request-ID/);
  });

  it('gives other origins no CORS headers', async () => {
    const res = await fetch(`${withCors.url}/v1/healthcheck`, { headers: { origin: 'https://evil.example.com' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('without configured origins: no CORS headers, and a preflight is refused like any unknown method', async () => {
    const res = await fetch(`${withoutCors.url}/v1/healthcheck`, { headers: { origin: ORIGIN } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await preflight(withoutCors.url, ORIGIN);
    expect(pre.status).toBe(405);
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    expect(((await pre.json()) as { error: { message: string } }).error.message).toBeTruthy();
  });
});
