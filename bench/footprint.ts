/**
 * Footprint of the built server with embedded defaults (SQLite, embedded IdP, demo seeded, the
 * local model as the default): time from spawn to a healthy /v1/healthcheck on a warm data dir
 * (the second and later starts: no seeding, no downloads), and RSS / heap after it idles.
 * Paired with a bare Node.js process that only listens, in the same run, as the baseline.
 *
 *   npm run build && npx tsx bench/footprint.ts [--runs 3] [--idle-seconds 10] [--preload] [--entry <server module>]
 *
 * Without --preload the local model is not loaded at start (CODEMIE_LOCAL_MODEL_PRELOAD=false):
 * the figure is the server's own; with it, the loaded model's memory is included. The model file
 * itself is not needed (the server only notes it is missing unless CODEMIE_LOCAL_MODEL points at one).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { freePort, serverEntry } from '../packages/server/test/process.js';
import { tempDir } from '../packages/server/test/helpers.js';
import { serverNodeFlags } from '../packages/server/src/node-flags.js';

const arg = (name: string, d: number) => (process.argv.includes(`--${name}`) ? Number(process.argv[process.argv.indexOf(`--${name}`) + 1]) : d);
const RUNS = arg('runs', 3);
const IDLE_S = arg('idle-seconds', 10);
const PRELOAD = process.argv.includes('--preload');
const ENTRY = process.argv.includes('--entry') ? process.argv[process.argv.indexOf('--entry') + 1]! : serverEntry;

function status(pid: number): { rss: number; anon: number; file: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0) / 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
}

async function healthy(url: string, child: { exitCode: number | null }, out: () => string): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited early:\n${out()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function measure(args: string[], env: Record<string, string>, healthPath: string) {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env, HOST: '127.0.0.1', PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  await healthy(`http://127.0.0.1:${port}${healthPath}`, child, () => out);
  const startMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, IDLE_S * 1000));
  const mem = status(child.pid!);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  return { startMs, ...mem };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const data = tempDir('codemie-footprint-');
const env = {
  CODEMIE_DATA_DIR: data.dir,
  CODEMIE_ADMIN_PASSWORD: 'footprint-bench-1',
  CODEMIE_LOCAL_MODEL_PRELOAD: PRELOAD ? 'true' : 'false',
  LOG_LEVEL: 'warn',
};
const bare = [
  '--input-type=module',
  '-e',
  "import http from 'node:http'; http.createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');",
];
try {
  // first start: seeds the database (not measured)
  await measure([...serverNodeFlags(), ENTRY], env, '/v1/healthcheck');
  const server: Awaited<ReturnType<typeof measure>>[] = [];
  const base: Awaited<ReturnType<typeof measure>>[] = [];
  for (let i = 0; i < RUNS; i++) {
    base.push(await measure(bare, {}, '/'));
    server.push(await measure([...serverNodeFlags(), ENTRY], env, '/v1/healthcheck'));
    const s = server.at(-1)!;
    console.error(
      `run ${i + 1}: start → healthy ${s.startMs.toFixed(0)} ms, RSS ${s.rss.toFixed(0)} MB (anon ${s.anon.toFixed(0)}, file ${s.file.toFixed(0)}); bare node ${base.at(-1)!.startMs.toFixed(0)} ms, ${base.at(-1)!.rss.toFixed(0)} MB`,
    );
  }
  const m = (xs: typeof server, k: keyof (typeof server)[number]) => Math.round(median(xs.map((x) => x[k])));
  console.log(
    JSON.stringify(
      {
        node: process.version,
        runs: RUNS,
        idle_seconds: IDLE_S,
        preload: PRELOAD,
        start_to_healthy_ms: m(server, 'startMs'),
        bare_node_start_ms: m(base, 'startMs'),
        idle_rss_mb: m(server, 'rss'),
        idle_rss_anon_mb: m(server, 'anon'),
        idle_rss_file_mb: m(server, 'file'),
        bare_node_rss_mb: m(base, 'rss'),
      },
      null,
      2,
    ),
  );
} finally {
  data.cleanup();
}
