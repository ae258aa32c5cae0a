/**
 * Smoke test of the scale-out load test (bench/scale-out.ts): the script itself, run as a user runs
 * it, on a tiny load — 1 worker, then 2 workers with one killed (SIGKILL) half-way — must finish
 * every run exactly once and report it. Needs the built server, PostgreSQL and Redis, like scale-out.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { testServiceUrl } from './services.js';

const enabled = Boolean(testServiceUrl('postgres') && testServiceUrl('redis'));
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function runBench(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/scale-out.ts', ...args], { cwd: root, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe.skipIf(!enabled)('bench/scale-out.ts (smoke)', () => {
  it('runs 1 worker and 2 workers with a SIGKILL: every run Succeeded once, none lost or duplicated', async () => {
    const { code, stdout, stderr } = await runBench(['--workers', '1', '--kill', '--runs', '20', '--concurrency', '8', '--warmup', '2', '--json'], 85_000);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as { results: Array<Record<string, any>> };
    expect(summary.results.map((r) => [r.workers, r.killed])).toEqual([
      [1, false],
      [2, true],
    ]);
    for (const r of summary.results) {
      expect(r.lost, JSON.stringify(r.problems)).toBe(0);
      expect(r.duplicated, JSON.stringify(r.problems)).toBe(0);
      expect(r.executions_per_s).toBeGreaterThan(0);
      expect(r.p99_ms).toBeGreaterThanOrEqual(r.p50_ms);
    }
    // Without a kill nothing is re-run; the killed worker's runs were taken over by the survivor.
    expect(summary.results[0]!.repeated_model_calls).toBe(0);
    expect(summary.results[0]!.taken_over).toBe(0);
    expect(stderr).toMatch(/SIGKILL worker pid \d+ after 10 submissions/);
    expect(stdout).toContain('| phase | runs | in flight | executions/s | p50 | p99 | lost | duplicated |');
  }, 90_000);
});
