/**
 * Platform overhead of POST /v1/assistants/{id}/model against an LLM that answers instantly.
 * Same run, same machine: (a) calling the test LLM server directly (OpenAI chat completions),
 * (b) calling a bare gateway in front of it (bench/reference-gateway.mjs: parse, call, reply;
 * nothing else), the yardstick for what any Node.js hop costs here, (c) calling the platform
 * (auth, assistant lookup, history persistence included), which calls that same LLM server.
 * Reports req/s and p50/p99 latency for non-stream, and time-to-first-byte for stream, at a fixed
 * concurrency. Added latency = (gateway or platform) − direct.
 *
 * The paths are measured in alternating rounds (direct, gateway, platform, direct, ...) and the
 * figures reported are medians over the rounds: on a shared VM the machine's speed drifts by tens
 * of percent within a minute, which one long phase each would fold into the comparison.
 *
 *   npx tsx bench/model-overhead.ts [--concurrency 16] [--rounds 5] [--seconds 3] [--warmup-seconds 15]
 *                                   [--client fetch|undici] [--no-gateway]
 */
import { readFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { once as onceEvent } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Agent } from 'undici';
import { startServerProcess } from '../packages/server/test/process.js';
import { tempDir } from '../packages/server/test/helpers.js';
import { openIdentityAdmin } from '../packages/server/src/identity/admin-session.js';
import { loadConfig } from '../packages/server/src/config/config.js';
import { startTestLlmServer, writeTestModelsFile, TEST_LLM_API_KEY } from '../packages/server/test/llm-server.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const CONCURRENCY = arg('concurrency', 16);
const selfCpu = cpuOf();
const SECONDS = arg('seconds', 3);
const ROUNDS = arg('rounds', 5);
const WARMUP_SECONDS = arg('warmup-seconds', 15);
const WITH_GATEWAY = !process.argv.includes('--no-gateway');

interface Stats {
  n: number;
  rps: number;
  p50: number;
  p99: number;
  /** CPU milliseconds the measured process spent per request (robust to other load on the machine). */
  cpuMs?: number;
}

/** CPU time (ms) used so far by a process: /proc on Linux for the server child, cpuUsage() for ourselves. */
function cpuOf(pid?: number): () => number {
  if (pid === undefined) return () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  return () => {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(f[11]) + Number(f[12])) * tick;
    } catch {
      return NaN;
    }
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Load at full concurrency, unmeasured, before the first round: V8 compiles hot code on a
 * background thread, which on a busy 2-core machine takes thousands of requests (the server's CPU
 * per call falls by half or more over the first ~10 s of load). The figures are for a warmed-up process.
 */
async function warmUp(once: () => Promise<number>): Promise<void> {
  const end = performance.now() + WARMUP_SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) await once();
    }),
  );
}

async function load(label: string, once: () => Promise<number>, cpu?: () => number, warmup = 50): Promise<Stats> {
  for (let i = 0; i < warmup; i++) await once();
  const samples: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  const cpu0 = cpu?.();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) samples.push(await once());
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  samples.sort((a, b) => a - b);
  const cpuMs = cpu && cpu0 !== undefined ? (cpu() - cpu0) / samples.length : undefined;
  const s = { n: samples.length, rps: samples.length / secs, p50: pct(samples, 50), p99: pct(samples, 99), cpuMs };
  const cpuText = cpuMs !== undefined && !Number.isNaN(cpuMs) ? `  cpu ${cpuMs.toFixed(2)} ms/req (${cpu === selfCpu ? 'bench process' : 'its process'})` : '';
  console.log(`  ${label.padEnd(32)} n=${String(s.n).padStart(6)}  ${s.rps.toFixed(0).padStart(5)} req/s  p50 ${s.p50.toFixed(2)} ms  p99 ${s.p99.toFixed(2)} ms${cpuText}`);
  return s;
}

/**
 * The load generator's HTTP client, used for both paths of every round. `fetch` (default): Node's
 * global fetch(), what most Node.js services (and the figures in bench/README.md) call with.
 * `undici`: undici's Agent.request(), about 4× less CPU per request. On 2 cores the load
 * generator competes with the server for CPU: with fetch the bench process is the bottleneck of
 * the direct path (≈ 1300 req/s); with undici the direct path runs at ≈ 5000 req/s and the
 * comparison becomes one server process's capacity against it (bench/README.md has both).
 */
const CLIENT = (() => {
  const i = process.argv.indexOf('--client');
  const c = i > 0 ? process.argv[i + 1] : 'fetch';
  if (c !== 'undici' && c !== 'fetch') throw new Error(`--client undici|fetch, not ${c}`);
  return c;
})();
const agent = new Agent({ keepAliveTimeout: 10_000 });

/**
 * Latency until the whole body is read (non-stream) or until the first body chunk (stream TTFB;
 * the rest is then read too, so the connection is kept alive as a real client's would be).
 */
async function timed(url: string, init: { method: 'POST'; headers: Record<string, string>; body: string }, firstChunkOnly: boolean): Promise<number> {
  const t = performance.now();
  if (CLIENT === 'fetch') {
    const res = await fetch(url, init);
    if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
    if (!firstChunkOnly) {
      await res.arrayBuffer();
      return performance.now() - t;
    }
    const reader = res.body!.getReader();
    await reader.read();
    const took = performance.now() - t;
    while (!(await reader.read()).done);
    return took;
  }
  const u = new URL(url);
  const res = await agent.request({ origin: u.origin, path: u.pathname, method: init.method, headers: init.headers, body: init.body });
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${await res.body.text()}`);
  if (!firstChunkOnly) {
    await res.body.arrayBuffer();
    return performance.now() - t;
  }
  let took = 0;
  for await (const _ of res.body) if (!took) took = performance.now() - t;
  return took;
}

/** Starts bench/reference-gateway.mjs in its own process (like the platform) and waits for its URL. */
async function startGateway(llmBaseUrl: string, llmKey: string): Promise<{ url: string; child: ChildProcess }> {
  const script = fileURLToPath(new URL('./reference-gateway.mjs', import.meta.url));
  const child = spawn(process.execPath, [script, llmBaseUrl, llmKey], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8');
  for await (const piece of child.stdout!) {
    out += piece;
    if (out.includes('\n')) return { url: out.trim(), child };
  }
  throw new Error('the reference gateway exited before listening');
}

async function main() {
  const llm = await startTestLlmServer({ instant: true });
  const tmp = tempDir('codemie-bench-');
  const { env } = writeTestModelsFile(llm, tmp.dir);
  // Fair-use rate limits on (so their check is measured) but far above what the bench sends.
  const srv = await startServerProcess({
    ...env,
    CODEMIE_DATA_DIR: tmp.dir,
    LOG_LEVEL: 'warn',
    CODEMIE_ADMIN_PASSWORD: 'bench-pass-123',
    CODEMIE_SCRYPT_N: '1024',
    CODEMIE_LIMIT_USER_REQUESTS_PER_MINUTE: '100000000',
    CODEMIE_LIMIT_PROJECT_REQUESTS_PER_MINUTE: '100000000',
  });
  const gateway = WITH_GATEWAY ? await startGateway(llm.baseUrl, TEST_LLM_API_KEY) : undefined;
  try {
    // A regular user, like a service calling the platform: admins are exempt from the fair-use
    // limits, so calling as admin would leave the limiter's per-request check out of the figures.
    const idp = await openIdentityAdmin(loadConfig({ CODEMIE_DATA_DIR: tmp.dir, CODEMIE_SCRYPT_N: '1024', CODEMIE_LOCAL_MODEL: 'off' }));
    try {
      await idp.admin.addUser({ username: 'bench', password: 'bench-user-pass-1', email: 'bench@example.com', projects: ['demo'] });
    } finally {
      await idp.close();
    }
    const tok = await fetch(`${srv.url}/auth/realms/codemie/protocol/openid-connect/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', client_id: 'codemie-sdk', username: 'bench', password: 'bench-user-pass-1' }),
    }).then((r) => r.json() as Promise<{ access_token: string }>);
    const auth = { authorization: `Bearer ${tok.access_token}`, 'content-type': 'application/json' };
    const created = await fetch(`${srv.url}/v1/assistants`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'Bench', description: '', system_prompt: 'You are fast.', llm_model_type: 'test-model', project: 'demo' }),
    }).then((r) => r.json() as Promise<{ assistantId: string }>);
    const modelUrl = `${srv.url}/v1/assistants/${created.assistantId}/model`;
    const directUrl = `${llm.baseUrl}/chat/completions`;
    const directHeaders = { authorization: `Bearer ${TEST_LLM_API_KEY}`, 'content-type': 'application/json' };
    const directBody = (stream: boolean) =>
      JSON.stringify({ model: 'test-model', stream, messages: [{ role: 'system', content: 'You are fast.' }, { role: 'user', content: 'hi' }], ...(stream ? { stream_options: { include_usage: true } } : {}) });

    console.log(`concurrency ${CONCURRENCY}, ${ROUNDS} rounds of ${SECONDS} s per phase, client ${CLIENT}, node ${process.version}`);
    const serverCpu = cpuOf(srv.child.pid);
    const gatewayCpu = gateway ? cpuOf(gateway.child.pid) : undefined;
    const gatewayHeaders = { authorization: 'Bearer gateway-key', 'content-type': 'application/json' };
    const paths = (stream: boolean) => ({
      direct: () => timed(directUrl, { method: 'POST', headers: directHeaders, body: directBody(stream) }, stream),
      gateway: gateway
        ? () => timed(`${gateway.url}/model`, { method: 'POST', headers: gatewayHeaders, body: JSON.stringify({ text: 'hi', stream }) }, stream)
        : undefined,
      platform: () => timed(modelUrl, { method: 'POST', headers: auth, body: JSON.stringify(stream ? { text: 'hi', stream: true } : { text: 'hi' }) }, stream),
    });
    type Round = { d: Stats; g?: Stats; p: Stats };
    const summary: string[] = [];
    for (const [name, calls] of [['non-stream', paths(false)], ['stream TTFB', paths(true)]] as const) {
      const rounds: Round[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        console.log(`${name}, round ${r + 1}/${ROUNDS}`);
        const warm = 10;
        if (r === 0) {
          console.log(`  warming up ${WARMUP_SECONDS} s each, unmeasured`);
          await warmUp(calls.direct);
          if (calls.gateway) await warmUp(calls.gateway);
          await warmUp(calls.platform);
        }
        const d = await load(`direct LLM, ${name}`, calls.direct, selfCpu, warm);
        const g = calls.gateway ? await load(`bare gateway, ${name}`, calls.gateway, gatewayCpu, warm) : undefined;
        const p = await load(`platform /model, ${name}`, calls.platform, serverCpu, warm);
        rounds.push({ d, g, p });
      }
      const med = (f: (x: Round) => number, digits = 2) => median(rounds.map(f)).toFixed(digits);
      const added = (which: 'g' | 'p', label: string) =>
        `  ${label.padEnd(13)} ${med((x) => x[which]!.rps, 0).padStart(5)} req/s; added p50 ${med((x) => x[which]!.p50 - x.d.p50)} ms, ` +
        `p99 ${med((x) => x[which]!.p99 - x.d.p99)} ms; its CPU per request ${med((x) => x[which]!.cpuMs ?? NaN)} ms`;
      summary.push(`${name}: direct ${med((x) => x.d.rps, 0)} req/s (bench process CPU per request ${med((x) => x.d.cpuMs ?? NaN)} ms)`);
      if (gateway) summary.push(added('g', 'bare gateway'));
      summary.push(added('p', 'platform'));
    }
    console.log('\nmedians over the rounds (added = that path − direct, of the same round):');
    for (const line of summary) console.log(line);
  } finally {
    if (gateway && gateway.child.exitCode === null) {
      const exited = onceEvent(gateway.child, 'exit');
      gateway.child.kill('SIGTERM');
      await exited;
    }
    await srv.stop('SIGTERM');
    await llm.close();
    await agent.close();
    tmp.cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
