/** /metrics parses as Prometheus text and counts requests by route pattern. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error no types published
import parsePrometheus from 'parse-prometheus-text-format';
import { startTestPlatform, type TestPlatform } from '../../test/helpers.js';
import { adminToken, authHeaders } from '../../test/identity-helpers.js';

interface Family {
  name: string;
  type: string;
  metrics: { labels?: Record<string, string>; value?: string; buckets?: Record<string, string> }[];
}

let p: TestPlatform;
beforeAll(async () => {
  p = await startTestPlatform();
});
afterAll(() => p.stop());

describe('metrics', () => {
  it('serves Prometheus text that parses, with HTTP counts by route pattern', async () => {
    await p.app.inject({ method: 'GET', url: '/v1/healthcheck' });
    await p.app.inject({ method: 'GET', url: '/code-assistant-api/v1/info' });
    await p.app.inject({ method: 'GET', url: '/v1/nope/123' });
    const res = await p.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const families = parsePrometheus(res.body) as Family[];
    const byName = Object.fromEntries(families.map((f) => [f.name, f]));
    const http = byName.codemie_http_requests_total;
    expect(http.type).toBe('COUNTER');
    const find = (route: string) => http.metrics.find((m) => m.labels?.route === route);
    expect(find('/v1/healthcheck')).toMatchObject({ labels: { method: 'GET', status: '200' }, value: '1' });
    expect(find('/code-assistant-api/v1/info')).toBeDefined();
    // Unknown URLs are folded into one label value: no unbounded cardinality.
    expect(http.metrics.some((m) => m.labels?.route?.includes('123'))).toBe(false);
    expect(byName.codemie_http_request_duration_seconds.type).toBe('HISTOGRAM');
    for (const name of ['codemie_llm_calls_total', 'codemie_mcp_tool_calls_total', 'codemie_runs_total', 'codemie_run_queue_depth', 'codemie_runs_active']) {
      expect(res.body).toContain(`# TYPE ${name}`);
    }
    expect(byName.codemie_run_queue_depth.metrics[0].value).toBe('0');
  });

  it('shows every in-process cache with its entries and its bound', async () => {
    const token = await adminToken(p);
    expect((await p.app.inject({ url: '/v1/user', headers: authHeaders(token) })).statusCode).toBe(200);
    const families = parsePrometheus((await p.app.inject({ method: 'GET', url: '/metrics' })).body) as Family[];
    const series = (name: string) => Object.fromEntries(families.find((f) => f.name === name)!.metrics.map((m) => [m.labels!.cache, Number(m.value)]));
    const entries = series('codemie_cache_entries');
    const max = series('codemie_cache_max_entries');
    // this platform's caches (other platforms started in this process may add theirs)
    for (const cache of ['verified_tokens', 'effective_users', 'sqlite_statements', 'datasource_vectors']) {
      expect(max[cache], cache).toBeGreaterThan(0);
      expect(entries[cache], cache).toBeLessThanOrEqual(max[cache]!);
    }
    expect(entries.verified_tokens).toBeGreaterThanOrEqual(1);
    expect(entries.sqlite_statements).toBeGreaterThan(0);
  });

  it('can move to a separate port', async () => {
    const { freePort } = await import('../../test/process.js');
    const port = await freePort();
    const q = await startTestPlatform({ listen: true, env: { CODEMIE_METRICS_PORT: String(port) } });
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('codemie_http_requests_total');
      expect((await fetch(`${q.url}/metrics`)).status).toBe(404);
    } finally {
      await q.stop();
    }
  });
});
