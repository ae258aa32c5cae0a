/** The BullMQ run queue against a real Redis: API-only enqueuers, several workers. */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { BullMqRunQueue, type BullMqOptions } from './bullmq-queue.js';
import type { RunHandler } from './queue.js';
import { abortReason } from './queue.js';

const redisUrl = process.env.TEST_REDIS_URL;
if (!redisUrl) throw new Error('TEST_REDIS_URL is not set: run with `npm test` (it starts Redis)');
const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const open: BullMqRunQueue[] = [];

function make(prefix: string, consume: boolean, handler: RunHandler, extra: Partial<BullMqOptions> = {}) {
  const q = new BullMqRunQueue({ redisUrl: redisUrl!, prefix, concurrency: 4, consume, lockDurationMs: 2000, ...extra }, log);
  q.register('k', handler);
  open.push(q);
  return q;
}

async function until(cond: () => boolean, ms = 10_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(20);
  }
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((q) => q.stop(100)));
});

describe('BullMQ run queue', () => {
  it('runs jobs enqueued by an API-only process on the workers, spread across them', async () => {
    const prefix = `t-${randomUUID()}`;
    const seen: Record<string, string> = {};
    const work = (name: string): RunHandler => async (job) => {
      seen[job.runId] = name;
      await sleep(50);
    };
    const api = make(prefix, false, async () => {
      throw new Error('api must not run jobs');
    });
    const w1 = make(prefix, true, work('w1'));
    const w2 = make(prefix, true, work('w2'));
    await Promise.all([api.start(), w1.start(), w2.start()]);
    for (let i = 0; i < 12; i++) await api.enqueue('k', `run-${i}`, { i });
    await until(() => Object.keys(seen).length === 12);
    expect(new Set(Object.values(seen))).toEqual(new Set(['w1', 'w2']));
  });

  it('ignores a duplicate enqueue of a waiting or active run', async () => {
    const prefix = `t-${randomUUID()}`;
    let runs = 0;
    const w = make(prefix, true, async () => {
      runs++;
      await sleep(200);
    });
    await w.start();
    await w.enqueue('k', 'dup');
    await w.enqueue('k', 'dup');
    await sleep(100);
    await w.enqueue('k', 'dup');
    await sleep(400);
    expect(runs).toBe(1);
  });

  it('delivers an abort from another process to the worker running the job', async () => {
    const prefix = `t-${randomUUID()}`;
    let reason: string | null = null;
    let started = false;
    const api = make(prefix, false, async () => undefined);
    const w = make(prefix, true, async (_job, signal) => {
      started = true;
      await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
      reason = abortReason(signal);
    });
    await Promise.all([api.start(), w.start()]);
    await api.enqueue('k', 'long');
    await until(() => started);
    expect(await api.abort('long')).toBe(true);
    await until(() => reason !== null);
    expect(reason).toBe('user');
    expect(await api.abort('never-enqueued')).toBe(false);
  });

  it('on shutdown puts a running job back for another worker (attempt not wasted)', async () => {
    const prefix = `t-${randomUUID()}`;
    const log2: string[] = [];
    const w1 = make(prefix, true, async (job, signal) => {
      log2.push(`w1:${job.attempt}`);
      await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
    });
    await w1.start();
    await w1.enqueue('k', 'moving');
    await until(() => log2.length === 1);
    await w1.stop(50);
    open.splice(open.indexOf(w1), 1);
    const w2 = make(prefix, true, async (job) => {
      log2.push(`w2:${job.attempt}`);
    });
    await w2.start();
    await until(() => log2.length === 2);
    expect(log2[0]).toBe('w1:1');
    expect(log2[1]).toMatch(/^w2:/);
  });
});
