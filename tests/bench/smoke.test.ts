/**
 * Perf smoke: each benchmark under bench/ runs for a few seconds, as a user runs it, and must
 * finish and print its report. No timing is asserted (figures live in bench/README.md, measured on
 * a quiet machine); this only keeps the benches runnable. bench/scale-out.ts has its own smoke
 * test (packages/server/test/scale-bench.test.ts). Needs the build, and for the local-model bench
 * the test model (CODEMIE_LOCAL_MODEL, from scripts/fetch-test-model.sh as CI sets it).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ci = /^(1|true|yes)$/i.test(process.env.CI ?? '');

function run(args: string[], env: Record<string, string> = {}, timeoutMs = 150_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}
const tsx = (script: string, ...args: string[]) => ['--import', 'tsx', `bench/${script}`, ...args];

describe('benchmarks run and report (smoke, no timing asserted)', () => {
  it('model-overhead.ts: direct, bare gateway and platform, non-stream and stream', async () => {
    const { code, out } = await run(tsx('model-overhead.ts', '--rounds', '1', '--seconds', '1', '--warmup-seconds', '1', '--concurrency', '4'));
    expect(code, out).toBe(0);
    expect(out).toMatch(/platform\s+\d+ req\/s; added p50 -?[\d.]+ ms/);
    expect(out).toContain('stream TTFB: direct');
  }, 180_000);

  it('llm-path.ts: CPU per call of the three LLM paths', async () => {
    const { code, out } = await run(tsx('llm-path.ts', '--rounds', '1', '--calls', '30'));
    expect(code, out).toBe(0);
    expect(out).toMatch(/agent loop \+ platform model\s+[\d.]+ ms\s+\(×1\.00\)/);
  }, 180_000);

  it('soak.ts: a few seconds of ramping mixed load, RSS and first-byte figures, targets judged', async () => {
    const { code, out } = await run(tsx('soak.ts', '--minutes', '0.2', '--max-concurrency', '10', '--cooldown-seconds', '2'));
    expect(code, out).toBe(0);
    expect(out).toMatch(/summary: \d+ calls, 0 errors/);
    expect(out).toContain('targets: RSS flat in the last third');
  }, 180_000);

  it('workflows.ts: engine throughput with the stub LLM', async () => {
    const { code, out } = await run(tsx('workflows.ts', '--stub-llm'), { BENCH_N: '10', BENCH_SEQ: '2', BENCH_CONCURRENCY: '3' });
    expect(code, out).toBe(0);
    const report = JSON.parse(out.slice(out.indexOf('{'), out.lastIndexOf('}') + 1));
    expect(report).toMatchObject({ one_state_executions: 10, failed: 0 });
  }, 180_000);

  it('knowledge.ts: indexing and the three search modes', async () => {
    const { code, out } = await run(tsx('knowledge.ts', '--docs', '20', '--queries', '5', '--runs', '1', '--embeddings', 'test'));
    expect(code, out).toBe(0);
    expect(out).toMatch(/\| hybrid \| [\d.]+ \| [\d.]+ \| [\d.]+ \|/);
  }, 180_000);

  it('footprint.ts: warm start to healthy and idle RSS, beside a bare Node.js process', async () => {
    const { code, out } = await run(tsx('footprint.ts', '--runs', '1', '--idle-seconds', '1'));
    expect(code, out).toBe(0);
    const report = JSON.parse(out.slice(out.indexOf('{'), out.lastIndexOf('}') + 1));
    expect(report.idle_rss_mb).toBeGreaterThan(report.bare_node_rss_mb);
    expect(report.start_to_healthy_ms).toBeGreaterThan(0);
  }, 180_000);

  const model = process.env.CODEMIE_LOCAL_MODEL;
  it.runIf(model || ci)(
    'local-model.mjs: the platform model and raw node-llama-cpp side by side',
    async () => {
      expect(model, 'CODEMIE_LOCAL_MODEL is not set (eval "$(bash scripts/fetch-test-model.sh)")').toBeTruthy();
      const { code, out } = await run(['bench/local-model.mjs', '1', '8'], { CODEMIE_LOCAL_MODEL_THREADS: '1' });
      expect(code, out).toBe(0);
      const report = JSON.parse(out.slice(out.indexOf('{'), out.lastIndexOf('}') + 1));
      expect(report.tokens_per_s_ratio).toBeGreaterThan(0);
      expect(report.raw_tokens_per_s_median).toBeGreaterThan(0);
    },
    240_000,
  );
});
