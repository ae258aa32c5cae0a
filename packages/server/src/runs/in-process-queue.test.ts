import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { InProcessRunQueue } from './in-process-queue.js';
import { abortReason } from './queue.js';

const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('in-process run queue', () => {
  it('runs jobs with bounded concurrency, FIFO', async () => {
    const q = new InProcessRunQueue(2, log);
    let active = 0;
    let peak = 0;
    const order: string[] = [];
    q.register('k', async (job) => {
      active++;
      peak = Math.max(peak, active);
      order.push(job.runId);
      await sleep(20);
      active--;
    });
    await q.start();
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((id) => q.enqueue('k', id, { n: id })));
    while (q.stats().running || q.stats().queued) await sleep(5);
    expect(peak).toBe(2);
    expect(order).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('ignores duplicate enqueues of the same run', async () => {
    const q = new InProcessRunQueue(1, log);
    let runs = 0;
    q.register('k', async () => {
      runs++;
      await sleep(10);
    });
    await q.start();
    await q.enqueue('k', 'x');
    await q.enqueue('k', 'x');
    while (q.stats().running || q.stats().queued) await sleep(5);
    expect(runs).toBe(1);
  });

  it('aborts a running job with reason user and drops a queued one', async () => {
    const q = new InProcessRunQueue(1, log);
    const reasons: (string | null)[] = [];
    const started: string[] = [];
    q.register('k', async (job, signal) => {
      started.push(job.runId);
      await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
      reasons.push(abortReason(signal));
    });
    await q.start();
    await q.enqueue('k', 'one');
    await q.enqueue('k', 'two');
    await sleep(10);
    expect(await q.abort('two')).toBe(true);
    expect(await q.abort('one')).toBe(true);
    expect(await q.abort('nope')).toBe(false);
    await sleep(10);
    expect(reasons).toEqual(['user']);
    expect(started).toEqual(['one']);
  });

  it('on stop, waits for the grace period then signals shutdown', async () => {
    const q = new InProcessRunQueue(1, log);
    let reason: string | null = null;
    q.register('k', async (_job, signal) => {
      await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
      reason = abortReason(signal);
    });
    await q.start();
    await q.enqueue('k', 'long');
    await sleep(5);
    await q.stop(20);
    expect(reason).toBe('shutdown');
  });

  it('keeps going when a handler throws, and gives that run up (one attempt), except at shutdown', async () => {
    const q = new InProcessRunQueue(1, log);
    const done: string[] = [];
    const givenUp: string[] = [];
    q.register(
      'k',
      async (job, signal) => {
        if (job.runId === 'bad') throw new Error('boom');
        if (job.runId === 'slow') {
          await new Promise((r) => signal.addEventListener('abort', r));
          throw new Error('stopped');
        }
        done.push(job.runId);
      },
      async (job, reason) => {
        givenUp.push(`${job.runId}: ${reason}`);
      },
    );
    await q.start();
    await q.enqueue('k', 'bad');
    await q.enqueue('k', 'good');
    while (q.stats().running || q.stats().queued) await sleep(5);
    expect(done).toEqual(['good']);
    expect(givenUp).toEqual(['bad: boom']);
    await q.enqueue('k', 'slow');
    await sleep(10);
    await q.stop(0);
    expect(givenUp).toEqual(['bad: boom']);
    await expect(q.enqueue('unknown', 'z')).rejects.toThrow(/no handler/);
  });
});
