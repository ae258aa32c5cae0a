/**
 * The soak bench's load generator, in a process of its own (so its CPU is not the server's):
 * keeps `concurrency` callers busy per phase of a schedule, each calling at random, by the mix:
 * a streamed assistant call (first byte = first body bytes; read to the end), a non-stream
 * assistant call, or a workflow execution start. Prints one JSON line per phase with its counts
 * and first-byte percentiles, and `{"done":true}` at the end.
 *
 * Run by bench/soak.ts with one JSON argument: {url, token, assistantId, workflowId, phases:[{seconds, concurrency}], mix:{stream, plain, workflow}}.
 */
import { Agent, request } from 'undici';

interface Plan {
  url: string;
  token: string;
  assistantId: string;
  workflowId: string;
  phases: Array<{ seconds: number; concurrency: number }>;
  mix: { stream: number; plain: number; workflow: number };
}

const plan = JSON.parse(process.argv[2]!) as Plan;
const dispatcher = new Agent({ connections: null, keepAliveTimeout: 30_000, headersTimeout: 120_000, bodyTimeout: 120_000 });
const headers = { authorization: `Bearer ${plan.token}`, 'content-type': 'application/json' };

type Kind = 'stream' | 'plain' | 'workflow';
interface PhaseStats {
  ok: Record<Kind, number>;
  shed: number;
  errors: number;
  errorSamples: string[];
  /** Streamed calls: time to the first body bytes (what a streaming user waits for). */
  firstByte: number[];
  /** Non-stream calls and workflow starts: time to the whole response. */
  latency: number[];
}

const newStats = (): PhaseStats => ({ ok: { stream: 0, plain: 0, workflow: 0 }, shed: 0, errors: 0, errorSamples: [], firstByte: [], latency: [] });

function pick(): Kind {
  const { stream, plain, workflow } = plan.mix;
  const r = Math.random() * (stream + plain + workflow);
  return r < stream ? 'stream' : r < stream + plain ? 'plain' : 'workflow';
}

async function once(kind: Kind, stats: PhaseStats): Promise<void> {
  const t0 = performance.now();
  const path = kind === 'workflow' ? `/v1/workflows/${plan.workflowId}/executions` : `/v1/assistants/${plan.assistantId}/model`;
  const body = kind === 'workflow' ? { user_input: 'soak' } : { text: 'soak', stream: kind === 'stream', save_history: false };
  try {
    const res = await request(`${plan.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body), dispatcher });
    if (res.statusCode === 503) {
      stats.shed++;
      await res.body.dump();
      return;
    }
    let first = -1;
    for await (const piece of res.body) {
      if (first < 0 && piece.length) first = performance.now() - t0;
    }
    if (res.statusCode !== 200) {
      stats.errors++;
      if (stats.errorSamples.length < 5) stats.errorSamples.push(`${kind} ${res.statusCode}`);
      return;
    }
    if (kind === 'stream') stats.firstByte.push(first < 0 ? performance.now() - t0 : first);
    else stats.latency.push(performance.now() - t0);
    stats.ok[kind]++;
  } catch (err) {
    stats.errors++;
    if (stats.errorSamples.length < 5) stats.errorSamples.push(`${kind} ${(err as Error).message}`);
  }
}

const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN);

let current = newStats();
let target = 0;
let running = 0;
let stopping = false;

/** One caller: calls while it is within the target concurrency. */
async function caller(n: number): Promise<void> {
  running++;
  try {
    while (!stopping && n < target) await once(pick(), current);
  } finally {
    running--;
  }
}

const callers = new Set<number>();
for (const [i, phase] of plan.phases.entries()) {
  current = newStats();
  target = phase.concurrency;
  for (let n = 0; n < target; n++) {
    if (callers.has(n)) continue;
    callers.add(n);
    void caller(n).finally(() => callers.delete(n));
  }
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, phase.seconds * 1000));
  const s = current;
  const secs = (performance.now() - t0) / 1000;
  const fb = [...s.firstByte].sort((a, b) => a - b);
  const lat = [...s.latency].sort((a, b) => a - b);
  const done = s.ok.stream + s.ok.plain + s.ok.workflow;
  process.stdout.write(
    `${JSON.stringify({
      phase: i,
      concurrency: phase.concurrency,
      seconds: Math.round(secs),
      perSecond: Math.round(done / secs),
      ok: s.ok,
      shed: s.shed,
      errors: s.errors,
      errorSamples: s.errorSamples,
      firstByteP50: Math.round(pct(fb, 50)),
      firstByteP99: Math.round(pct(fb, 99)),
      latencyP50: Math.round(pct(lat, 50)),
      latencyP99: Math.round(pct(lat, 99)),
    })}\n`,
  );
}
stopping = true;
target = 0;
for (let i = 0; i < 600 && running > 0; i++) await new Promise((r) => setTimeout(r, 100));
process.stdout.write(`${JSON.stringify({ done: true, stillRunning: running })}\n`);
await dispatcher.close();
process.exit(0);
