/**
 * Soak: the built server under a long, mixed, ramping load, in three processes (server, mock LLM
 * streaming 40 tokens over 2 s, load generator), watched from outside: RSS and heap every few
 * seconds, first-byte p50/p99, errors and shed calls per phase, and RSS a minute after the load
 * stops. Mixed load: streamed and non-stream assistant calls, workflow executions.
 *
 *   npm run build && npx tsx bench/soak.ts [--minutes 10] [--max-concurrency 2000] [--max-inflight N] [--cooldown-seconds 60]
 *
 * --max-inflight sets CODEMIE_MAX_INFLIGHT_CALLS (0 = no load shedding); run it both ways to see
 * both sides of the limit. Targets (bench/README.md, "Soak"): RSS in the last third of the load
 * within 10 % of the middle third, back within 25 % of its pre-load value after the cool-down, no
 * errors (a shed call is not an error: it is a 503 with Retry-After, counted apart).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServerProcess } from '../packages/server/test/process.js';
import { tempDir } from '../packages/server/test/helpers.js';
import { writeTestModelsFile } from '../packages/server/test/llm-server.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const MINUTES = arg('minutes', 10);
const MAX_C = arg('max-concurrency', 2000);
const MAX_INFLIGHT = arg('max-inflight', 1000);
const COOLDOWN_S = arg('cooldown-seconds', 60);
const SAMPLE_MS = Math.max(500, Math.min(5000, MINUTES * 500));

/** Load phases filling `minutes` minus the cool-down: a warm-up, a ramp to the maximum, a hold at it. */
function schedule(): Array<{ seconds: number; concurrency: number }> {
  const total = Math.max(6, MINUTES * 60 - COOLDOWN_S);
  const steps = [0.05, 0.125, 0.25, 0.5, 0.75, 1, 1].map((f) => Math.max(1, Math.round(f * MAX_C)));
  const warm = Math.max(2, Math.round(total * 0.05));
  const each = Math.max(1, Math.round((total - warm) / steps.length));
  return [{ seconds: warm, concurrency: Math.max(1, Math.round(MAX_C * 0.025)) }, ...steps.map((c) => ({ seconds: each, concurrency: c }))];
}

function spawnTsx(file: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(HERE, file), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

async function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d) => {
      buf += d;
      const i = buf.indexOf('\n');
      if (i >= 0) resolve(buf.slice(0, i).trim());
    });
    child.once('exit', (code) => reject(new Error(`exited (${code}) before printing its address`)));
  });
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

async function heapMb(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^codemie_process_nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1] ?? NaN) / 1048576;
}

const tmp = tempDir('codemie-soak-');
const llm = spawnTsx('soak-llm.ts', ['--tokens', '40', '--stream-ms', '2000']);
const llmBase = await firstLine(llm);
const models = writeTestModelsFile({ baseUrl: llmBase }, tmp.dir);
const server = await startServerProcess({
  ...models.env,
  CODEMIE_DATA_DIR: tmp.dir,
  CODEMIE_ADMIN_PASSWORD: 'soak-admin-password',
  CODEMIE_SCRYPT_N: '1024',
  LOG_LEVEL: 'warn',
  CODEMIE_ACCESS_TOKEN_TTL: '86400',
  CODEMIE_LIMIT_USER_REQUESTS_PER_MINUTE: '0',
  CODEMIE_LIMIT_PROJECT_REQUESTS_PER_MINUTE: '0',
  CODEMIE_LIMIT_USER_CONCURRENT_RUNS: '0',
  CODEMIE_LIMIT_PROJECT_CONCURRENT_RUNS: '0',
  CODEMIE_MAX_INFLIGHT_CALLS: String(MAX_INFLIGHT),
  CODEMIE_WORKER_CONCURRENCY: '200',
});
const pid = server.child.pid!;
const token = (
  (await (
    await fetch(`${server.url}/auth/realms/codemie/protocol/openid-connect/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', client_id: 'codemie-sdk', username: 'admin', password: 'soak-admin-password' }),
    })
  ).json()) as { access_token: string }
).access_token;
const api = async (method: string, url: string, body: unknown) => {
  const res = await fetch(`${server.url}/v1${url}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<Record<string, any>>;
};
const assistantId = (await api('POST', '/assistants', { name: 'Soak', system_prompt: 'x', project: 'demo', llm_model_type: 'test-model' }))
  .assistantId as string;
const yaml = `assistants:\n  - id: a\n    model: test-model\n    system_prompt: x\nstates:\n  - id: s\n    assistant_id: a\n    task: '{{user_input}}'\n    next:\n      state_id: end\n`;
const workflowId = (await api('POST', '/workflows', { name: 'Soak', description: 'soak', project: 'demo', yaml_config: yaml })).data.id as string;

await new Promise((r) => setTimeout(r, 2000));
const preLoad = rssMb(pid);
console.log(
  `node ${process.version}; server pid ${pid}; max in-flight ${MAX_INFLIGHT || 'off'}; pre-load RSS ${preLoad.toFixed(0)} MB, heap ${(await heapMb(server.url)).toFixed(0)} MB`,
);

const samples: Array<{ t: number; rss: number; heap: number }> = [];
const t0 = performance.now();
const sampler = setInterval(() => {
  void heapMb(server.url)
    .catch(() => NaN)
    .then((heap) => samples.push({ t: (performance.now() - t0) / 1000, rss: rssMb(pid), heap }));
}, SAMPLE_MS);

const phases = schedule();
const load = spawnTsx('soak-load.ts', [JSON.stringify({ url: server.url, token, assistantId, workflowId, phases, mix: { stream: 6, plain: 3, workflow: 1 } })]);
const results: Array<Record<string, any>> = [];
let buf = '';
load.stdout!.on('data', (d) => {
  buf += d;
  for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
    const r = JSON.parse(buf.slice(0, i)) as Record<string, any>;
    buf = buf.slice(i + 1);
    if (r.done) continue;
    results.push(r);
    const rss = rssMb(pid);
    console.log(
      `phase ${r.phase}  c=${String(r.concurrency).padStart(5)}  ${String(r.perSecond).padStart(5)} calls/s  stream first byte p50 ${String(r.firstByteP50).padStart(5)} ms  p99 ${String(r.firstByteP99).padStart(6)} ms  other calls p50 ${String(r.latencyP50 ?? '-').padStart(5)} ms  p99 ${String(r.latencyP99 ?? '-').padStart(6)} ms  shed ${r.shed}  errors ${r.errors}${r.errorSamples.length ? ` (${r.errorSamples.join('; ')})` : ''}  RSS ${rss.toFixed(0)} MB`,
    );
  }
});
await new Promise((r) => load.once('exit', r));
const loadEnd = (performance.now() - t0) / 1000;
await new Promise((r) => setTimeout(r, COOLDOWN_S * 1000));
clearInterval(sampler);
const after = rssMb(pid);

const during = samples.filter((s) => s.t <= loadEnd);
const third = (k: 0 | 1 | 2) => during.slice(Math.floor((k * during.length) / 3), Math.floor(((k + 1) * during.length) / 3));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const mid = mean(third(1).map((s) => s.rss));
const last = mean(third(2).map((s) => s.rss));
const peak = Math.max(...during.map((s) => s.rss));
const errors = results.reduce((a, r) => a + r.errors, 0);
const shed = results.reduce((a, r) => a + r.shed, 0);
const calls = results.reduce((a, r) => a + r.ok.stream + r.ok.plain + r.ok.workflow, 0);
console.log('\nRSS over time (MB):', during.map((s) => s.rss.toFixed(0)).join(' '));
console.log('heap used over time (MB):', during.map((s) => (Number.isNaN(s.heap) ? '?' : s.heap.toFixed(0))).join(' '));
console.log(
  `\nsummary: ${calls} calls, ${errors} errors, ${shed} shed (503); RSS pre-load ${preLoad.toFixed(0)} MB, middle third ${mid.toFixed(0)} MB, last third ${last.toFixed(0)} MB (${(((last - mid) / mid) * 100).toFixed(1)} %), peak ${peak.toFixed(0)} MB, ${COOLDOWN_S} s after the load ${after.toFixed(0)} MB (${(((after - preLoad) / preLoad) * 100).toFixed(1)} % of pre-load)`,
);
console.log(
  `targets: RSS flat in the last third (≤ 10 %): ${Math.abs(last - mid) / mid <= 0.1 ? 'met' : 'MISSED'}; back within 25 % of pre-load: ${(after - preLoad) / preLoad <= 0.25 ? 'met' : 'MISSED'}; no errors: ${errors === 0 ? 'met' : 'MISSED'}; streamed first byte p99 < 1 s in every phase: ${results.every((r) => !(r.firstByteP99 >= 1000)) ? 'met' : `MISSED (worst ${Math.max(...results.map((r) => r.firstByteP99 || 0))} ms)`}`,
);
await server.stop();
llm.kill('SIGTERM');
tmp.cleanup();
