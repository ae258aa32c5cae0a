/**
 * Analytics at size: seeds usage records as 1 million assistant messages (model calls) and 100 000
 * workflow executions (an execution row and two state rows each), plus tool calls, over 30 days,
 * 2 000 users, 50 projects, 400 assistants, 200 workflows; then calls every /v1/analytics endpoint
 * (last_30_days, as an administrator: the widest scan) and reports p50 / p95 per endpoint.
 * Also the hot-path cost of recording: CPU time of `usage.record` per call.
 *
 *   npx tsx bench/analytics.ts                                   # SQLite
 *   eval "$(bash scripts/services.sh start postgres)" && npx tsx bench/analytics.ts --db postgres
 *   BENCH_MESSAGES=1000000 BENCH_EXECUTIONS=100000 BENCH_RUNS=20
 */
import { performance } from 'node:perf_hooks';
import { startTestPlatform, testAuthHeaders } from '../packages/server/test/helpers.js';
import type { UsageInput } from '../packages/server/src/analytics/recorder.js';

const db = process.argv.includes('--db') ? (process.argv[process.argv.indexOf('--db') + 1] as 'sqlite' | 'postgres') : 'sqlite';
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 1_000_000);
const EXECUTIONS = Number(process.env.BENCH_EXECUTIONS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const DAY = 86_400_000;
const now = Date.now();

const p = await startTestPlatform({ db, testAuth: true });
const dbh = p.infra.store.db;
// mulberry32: a small PRNG with well-mixed low bits (deterministic seed).
let rnd = 42;
const rand = (n: number) => {
  rnd = (rnd + 0x6d2b79f5) | 0;
  let t = Math.imul(rnd ^ (rnd >>> 15), 1 | rnd);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return (((t ^ (t >>> 14)) >>> 0) % n) as number;
};
const convStart = (c: number) => now - 3_600_000 - ((c * 7919) % (30 * DAY - 3_600_000));
const when = () => new Date(now - rand(30 * DAY) - 60_000).toISOString();

/** Through the recorder, as the platform writes them (records and their hourly rollup, one transaction per chunk). */
async function insert(rows: UsageInput[]) {
  await dbh.transaction().execute((trx) => p.infra.usage.record(rows, trx, { fresh: true }));
}

const seedStart = performance.now();
const CHUNK = 20_000;
let seq = 0;
for (let done = 0; done < MESSAGES; done += CHUNK) {
  const rows: UsageInput[] = [];
  for (let i = 0; i < Math.min(CHUNK, MESSAGES - done); i++) {
    const conv = rand(MESSAGES / 8);
    const u = conv % 2000;
    const a = conv % 400;
    const base: Omit<UsageInput, 'key' | 'kind' | 'status'> = {
      user: { id: `u${u}`, email: `user${u}@example.com` },
      project: `project-${a % 50}`,
      assistantId: `a${a}`,
      assistantName: `Assistant ${a}`,
      conversationId: `c${conv}`,
      model: ['gpt-4o', 'claude-sonnet', 'gemini-pro'][a % 3],
      // A conversation's messages within half an hour of its start.
      date: new Date(convStart(conv) + rand(30 * 60_000)).toISOString(),
    };
    rows.push({
      ...base,
      key: `assistant:${seq++}`,
      kind: 'assistant',
      usage: { input_tokens: 200 + rand(800), output_tokens: 50 + rand(300), money_spent: 0.001 * (1 + rand(20)) },
      latencyMs: 500 + rand(4000),
      status: rand(50) ? 'success' : 'error',
      errorClass: null,
    });
    if (!rand(5))
      rows.push({
        ...base,
        key: `tool:${seq++}`,
        kind: 'tool',
        toolName: `tool_${rand(60)}`,
        toolType: 'mcp',
        mcpServer: `mcp-${rand(12)}`,
        latencyMs: rand(900),
        status: rand(30) ? 'success' : 'error',
        errorClass: 'ToolError',
      });
  }
  await insert(rows);
}
for (let done = 0; done < EXECUTIONS; done += CHUNK / 4) {
  const rows: UsageInput[] = [];
  for (let i = 0; i < Math.min(CHUNK / 4, EXECUTIONS - done); i++) {
    const u = rand(2000);
    const w = rand(200);
    const e = `e${done + i}`;
    const base = {
      user: { id: `u${u}`, email: `user${u}@example.com` },
      project: `project-${w % 50}`,
      workflowId: `w${w}`,
      workflowName: `Workflow ${w}`,
      executionId: e,
      date: when(),
    };
    rows.push({ ...base, key: `workflow:${e}`, kind: 'workflow', latencyMs: 2000 + rand(20_000), status: rand(20) ? 'success' : 'error' });
    for (const s of ['s1', 's2'])
      rows.push({
        ...base,
        key: `wf_state:${e}:${s}`,
        kind: 'workflow_state',
        model: 'gpt-4o',
        usage: { input_tokens: 300 + rand(500), output_tokens: 100 + rand(200), money_spent: 0.002 },
        latencyMs: 1000 + rand(5000),
        status: 'success',
      });
  }
  await insert(rows);
}
const [{ r }] = await dbh
  .selectFrom('usage_rollup')
  .select((eb) => eb.fn.countAll<number>().as('r'))
  .execute();
const [{ n }] = await dbh
  .selectFrom('usage_records')
  .select((eb) => eb.fn.countAll<number>().as('n'))
  .execute();
console.log(
  `${db}: seeded ${Number(n).toLocaleString()} usage rows, ${Number(r).toLocaleString()} rollup rows (${MESSAGES.toLocaleString()} messages, ${EXECUTIONS.toLocaleString()} executions) in ${((performance.now() - seedStart) / 1000).toFixed(0)} s`,
);
if (db === 'postgres') await import('kysely').then(({ sql }) => sql`analyze`.execute(dbh));

const admin = testAuthHeaders({ id: 'bench-admin', username: 'bench-admin', isAdmin: true, roles: ['admin'] });
const plain = testAuthHeaders({ id: 'u7', username: 'u7', email: 'user7@example.com' });
const endpoints = [
  'summaries',
  'users',
  'users-activity',
  'users-spending',
  'projects-activity',
  'projects-spending',
  'assistants-chats',
  'agents-usage',
  'workflows',
  'tools-usage',
  'llms-usage',
  'mcp-servers',
  'mcp-servers-by-users',
  'webhooks-invocation',
  'budget-soft-limit',
  'budget-hard-limit',
];
const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)]!;
console.log(`| endpoint | admin p50 | admin p95 | plain user p95 |`);
console.log(`|---|---|---|---|`);
for (const e of endpoints) {
  const times: Record<string, number[]> = { admin: [], plain: [] };
  for (const [who, headers] of [
    ['admin', admin],
    ['plain', plain],
  ] as const) {
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      const res = await p.app.inject({ method: 'GET', url: `/v1/analytics/${e}?time_period=last_30_days&per_page=20`, headers });
      times[who]!.push(performance.now() - t);
      if (res.statusCode !== 200) throw new Error(`${e}: ${res.statusCode} ${res.body.slice(0, 300)}`);
    }
  }
  console.log(`| ${e} | ${pct(times.admin!, 0.5).toFixed(0)} ms | ${pct(times.admin!, 0.95).toFixed(0)} ms | ${pct(times.plain!, 0.95).toFixed(0)} ms |`);
}

// Hot path: the CPU time recording adds to one model call (the row built and handed to the batcher).
const rec = p.infra.usage;
const N = 5000;
const c0 = process.cpuUsage();
const pending: Promise<void>[] = [];
for (let i = 0; i < N; i++)
  pending.push(
    rec.record({
      key: `hot:${i}`,
      kind: 'assistant',
      user: { id: 'u1', email: 'u1@example.com' },
      project: 'p',
      assistantId: 'a',
      assistantName: 'A',
      conversationId: 'c',
      model: 'm',
      usage: { input_tokens: 10, output_tokens: 5, money_spent: 0.01 },
      latencyMs: 100,
      status: 'success',
    }),
  );
await Promise.all(pending);
const c1 = process.cpuUsage(c0);
console.log(`recording: ${((c1.user + c1.system) / 1000 / N).toFixed(3)} ms CPU per call (${N} records, writes included)`);
await p.stop();
