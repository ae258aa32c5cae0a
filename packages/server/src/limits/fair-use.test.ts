/**
 * The fair-use service over the memory backend: which rule refuses and how it reads (429,
 * Retry-After, envelope details, metric), admin exemption, 0 = off, fail-open, and the run
 * queue wrapper that refreshes and frees slots wherever a run ends.
 */
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import type { AuthUser } from '../api/auth.js';
import { ApiError } from '../api/errors.js';
import { Metrics } from '../metrics/metrics.js';
import { InProcessRunQueue } from '../runs/in-process-queue.js';
import type { LimitBackend } from './backend.js';
import { FairUse, type FairUseSettings } from './fair-use.js';
import { MemoryLimitBackend } from './memory.js';

const log = pino({ level: 'silent' });
const user = (id: string, isAdmin = false): AuthUser => ({ id, username: id, name: id, email: '', roles: [], projects: ['demo'], adminProjects: [], isAdmin, userType: 'regular' });
const settings = (s: Partial<FairUseSettings> = {}): FairUseSettings => ({
  userConcurrentRuns: 0,
  projectConcurrentRuns: 0,
  userRequestsPerMinute: 0,
  projectRequestsPerMinute: 0,
  exemptAdmins: true,
  runLeaseMs: 30_000,
  ...s,
});

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

const rejections = async (m: Metrics) => (await m.fairUseRejections.get()).values.map((v) => ({ ...v.labels, n: v.value }));

describe('FairUse', () => {
  it('refuses the request over the per-user rate with 429, Retry-After and a message naming the limit', async () => {
    const metrics = new Metrics(() => ({ queued: 0, running: 0 }));
    const fu = new FairUse(new MemoryLimitBackend(60_000), settings({ userRequestsPerMinute: 2 }), log, metrics);
    await fu.checkRequest(user('u1'));
    await fu.admitRun(user('u1'), 'demo'); // run-starting requests count for the user too
    const err = await refusal(fu.checkRequest(user('u1')));
    expect(err.status).toBe(429);
    expect(Number(err.headers['retry-after'])).toBeGreaterThanOrEqual(59);
    expect(Number(err.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(err.toBody().error.details).toMatch(/^Fair-use limit reached: at most 2 requests per minute per user\. Retry after (59|60) s\.$/);
    await fu.checkRequest(user('u2')); // another user is not affected
    expect(await rejections(metrics)).toEqual([{ scope: 'user', limit: 'rate', n: 1 }]);
  });

  it('refuses run-starting requests over the per-project rate, naming the project', async () => {
    const metrics = new Metrics(() => ({ queued: 0, running: 0 }));
    const fu = new FairUse(new MemoryLimitBackend(60_000), settings({ userRequestsPerMinute: 100, projectRequestsPerMinute: 1 }), log, metrics);
    await fu.admitRun(user('u1'), 'alpha');
    const err = await refusal(fu.admitRun(user('u2'), 'alpha'));
    expect(err.toBody().error.details).toMatch(/at most 1 run-starting requests per minute in project 'alpha'/);
    await fu.admitRun(user('u2'), 'beta');
    // Ordinary requests never count against the project.
    await fu.checkRequest(user('u2'));
    expect(await rejections(metrics)).toEqual([{ scope: 'project', limit: 'rate', n: 1 }]);
  });

  it('refuses a run over the user or project concurrency with Retry-After 5; a freed slot admits the next', async () => {
    const metrics = new Metrics(() => ({ queued: 0, running: 0 }));
    const fu = new FairUse(new MemoryLimitBackend(60_000), settings({ userConcurrentRuns: 1, projectConcurrentRuns: 2 }), log, metrics);
    await fu.admitRun(user('u1'), 'demo', 'run-1');
    const byUser = await refusal(fu.admitRun(user('u1'), 'demo', 'run-2'));
    expect(byUser.headers['retry-after']).toBe('5');
    expect(byUser.toBody().error.details).toBe('Fair-use limit reached: at most 1 concurrent runs per user. Start this one when one of your runs has finished.');
    await fu.admitRun(user('u2'), 'demo', 'run-3');
    const byProject = await refusal(fu.admitRun(user('u3'), 'demo', 'run-4'));
    expect(byProject.toBody().error.details).toMatch(/at most 2 concurrent runs in project 'demo'/);
    // Synchronous calls (no run id) take no slot.
    await fu.admitRun(user('u1'), 'demo');
    await fu.release('run-1');
    await fu.admitRun(user('u1'), 'other', 'run-2');
    expect(await rejections(metrics)).toEqual([
      { scope: 'user', limit: 'concurrency', n: 1 },
      { scope: 'project', limit: 'concurrency', n: 1 },
    ]);
  });

  it('exempts admins (unless configured otherwise) and treats 0 as off', async () => {
    const strict = settings({ userRequestsPerMinute: 1, userConcurrentRuns: 1 });
    const fu = new FairUse(new MemoryLimitBackend(60_000), strict, log);
    for (let i = 0; i < 5; i++) {
      await fu.checkRequest(user('root', true));
      await fu.admitRun(user('root', true), 'demo', `r${i}`);
    }
    const counted = new FairUse(new MemoryLimitBackend(60_000), { ...strict, exemptAdmins: false }, log);
    await counted.checkRequest(user('root', true));
    expect((await refusal(counted.checkRequest(user('root', true)))).status).toBe(429);
    const off = new FairUse(new MemoryLimitBackend(60_000), settings(), log);
    for (let i = 0; i < 5; i++) await off.admitRun(user('u1'), 'demo', `r${i}`);
  });

  it('lets requests through when the backend fails (fail-open)', async () => {
    const broken: LimitBackend = {
      admit: () => Promise.reject(new Error('redis down')),
      refresh: () => Promise.reject(new Error('redis down')),
      release: () => Promise.reject(new Error('redis down')),
    };
    const fu = new FairUse(broken, settings({ userRequestsPerMinute: 1, userConcurrentRuns: 1 }), log);
    await fu.checkRequest(user('u1'));
    await fu.admitRun(user('u1'), 'demo', 'r1');
    await fu.release('r1');
  });

  it('an admission rolls back only the slot it took', async () => {
    const fu = new FairUse(new MemoryLimitBackend(60_000), settings({ userConcurrentRuns: 1 }), log);
    const first = fu.admission(user('u1'));
    await first.admit('demo', 'r1');
    const second = fu.admission(user('u1'));
    await refusal(second.admit('demo', 'r2'));
    await second.rollback(); // refused: holds nothing, frees nothing
    await refusal(fu.admitRun(user('u1'), 'demo', 'r3'));
    await first.rollback();
    await fu.admitRun(user('u1'), 'demo', 'r3');
  });
});

describe('FairUse.trackRuns', () => {
  const setup = () => {
    const backend = new MemoryLimitBackend(60_000);
    const fu = new FairUse(backend, settings({ userConcurrentRuns: 5, runLeaseMs: 300 }), log);
    const queue = fu.trackRuns(new InProcessRunQueue(4, log));
    return { backend, fu, queue, held: () => backend.holders('u:u1') };
  };

  it('frees a run slot when its handler finishes, throws (given up) or is aborted, and keeps it across a shutdown hand-back', async () => {
    const { fu, queue, held } = setup();
    const gates = new Map<string, () => void>();
    queue.register('k', async (job, signal) => {
      await new Promise<void>((resolve) => {
        gates.set(job.runId, resolve);
        signal.addEventListener('abort', () => resolve());
      });
      if (job.runId === 'fails') throw new Error('boom');
    });
    await queue.start();
    for (const id of ['done', 'fails', 'aborted', 'queued-abort']) await fu.admitRun(user('u1'), 'demo', id);
    for (const id of ['done', 'fails', 'aborted']) await queue.enqueue('k', id);
    await new Promise((r) => setTimeout(r, 20));
    expect(held().sort()).toEqual(['aborted', 'done', 'fails', 'queued-abort']);
    gates.get('done')!();
    await queue.abort('aborted');
    await queue.abort('queued-abort'); // never enqueued here: its slot is freed all the same
    await new Promise((r) => setTimeout(r, 20));
    // A handler that threw keeps its slot until the lease lapses (its queue may retry it).
    expect(held()).toEqual(['fails']);
    gates.get('fails')!();
    await fu.admitRun(user('u1'), 'demo', 'shutdown');
    await queue.enqueue('k', 'shutdown');
    await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 20));
    // The in-process queue does not try a failed run again: it gave up, and the slot is free.
    expect(held()).toEqual(['shutdown']);
    await queue.stop(0);
    expect(held()).toEqual(['shutdown']);
  });

  it('refreshes the leases of running runs so long runs keep their slots', async () => {
    const { fu, queue, held } = setup();
    let finish!: () => void;
    queue.register('k', () => new Promise<void>((r) => (finish = r)));
    await queue.start();
    await fu.admitRun(user('u1'), 'demo', 'long');
    await queue.enqueue('k', 'long');

    await new Promise((r) => setTimeout(r, 1300)); // lease 600 ms (2 × runLeaseMs), refreshed every 250 ms
    expect(held()).toEqual(['long']);
    finish();
    await new Promise((r) => setTimeout(r, 20));
    expect(held()).toEqual([]);
    await queue.stop(0);
  });
});
