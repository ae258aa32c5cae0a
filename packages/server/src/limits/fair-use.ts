/**
 * Fair use: per-user and per-project limits on request rate and on concurrent runs (workflow
 * executions and assistant background tasks), answered with 429 + Retry-After.
 *
 * - Request rate: every authenticated request counts against its user (the onRequest hook,
 *   hook.ts); run-starting requests (routes with `config: { startsRun: true }`) are checked in
 *   their handler instead, once the project is known, so user rate, project rate and the run's
 *   concurrency slots are ONE backend call (one Redis round trip in scale-out mode).
 * - Concurrency: a run takes a slot of its user and of its project before its row is inserted
 *   (a refused request stores nothing). The slot is a lease: the process executing the run
 *   refreshes it while the run runs (trackRuns), and frees it when the run ends, fails or is
 *   aborted — on whichever worker that happens. A process that dies stops refreshing, so its
 *   runs' slots lapse after the lease (2 × CODEMIE_RUN_LEASE_MS); a run taken over by another
 *   worker re-takes its slots there. A run still waiting in the queue holds its slot for up to
 *   QUEUED_LEASE_MS before it starts. An Interrupted workflow execution holds no slot (resuming
 *   it is run-starting again). Synchronous assistant calls hold no slot: they are bounded by
 *   the caller's own connections and by the request rate, and counting them would cost a second
 *   Redis round trip per call.
 * - Admins (realm admin role) are exempt when CODEMIE_LIMIT_EXEMPT_ADMINS (default): not
 *   limited and not counted. A backend failure (Redis down or slow) lets the request through
 *   and logs a warning: fair use never takes the API down with it.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { AuthUser } from '../api/auth.js';
import { tooManyRequests } from '../api/errors.js';
import type { Config } from '../config/config.js';
import type { Metrics } from '../metrics/metrics.js';
import { abortReason, type GiveUpHandler, type RunHandler, type RunJob, type RunQueue } from '../runs/queue.js';
import type { Admission, LimitBackend } from './backend.js';

export const WINDOW_MS = 60_000;
/** Retry-After of a concurrency refusal: a hint, since a slot frees when one of the runs ends. */
export const CONCURRENCY_RETRY_AFTER_S = 5;
/** A slot taken for a run that has not started yet (waiting in the queue) lasts this long at least. */
export const QUEUED_LEASE_MS = 10 * 60_000;

export interface FairUseSettings {
  userConcurrentRuns: number;
  projectConcurrentRuns: number;
  userRequestsPerMinute: number;
  projectRequestsPerMinute: number;
  exemptAdmins: boolean;
  /** CODEMIE_RUN_LEASE_MS: slots of running runs last twice this, refreshed every half of it. */
  runLeaseMs: number;
}

export function fairUseSettings(cfg: Config): FairUseSettings {
  return {
    userConcurrentRuns: cfg.limitUserConcurrentRuns,
    projectConcurrentRuns: cfg.limitProjectConcurrentRuns,
    userRequestsPerMinute: cfg.limitUserRequestsPerMinute,
    projectRequestsPerMinute: cfg.limitProjectRequestsPerMinute,
    exemptAdmins: cfg.limitExemptAdmins,
    runLeaseMs: cfg.runLeaseMs,
  };
}

type Scope = { who: 'user' } | { who: 'project'; project: string };

/** The admission of one run-starting request: admit once the project is known; roll back if the run is not created after all. */
export interface RunAdmission {
  admit(project: string, runId?: string): Promise<void>;
  /** Frees the slots taken by admit (if any); the request itself stays counted. */
  rollback(): Promise<void>;
}

const enc = (s: string) => encodeURIComponent(s);

export class FairUse {
  readonly slotLeaseMs: number;
  private readonly queuedLeaseMs: number;
  private readonly refreshEveryMs: number;
  /** Runs executing in this process: their slots' leases are refreshed. */
  private readonly running = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private warnedAt = 0;

  constructor(
    readonly backend: LimitBackend,
    readonly settings: FairUseSettings,
    private readonly log: FastifyBaseLogger,
    private readonly metrics?: Metrics,
  ) {
    this.slotLeaseMs = 2 * settings.runLeaseMs;
    this.refreshEveryMs = Math.max(250, Math.floor(settings.runLeaseMs / 2));
    this.queuedLeaseMs = Math.max(QUEUED_LEASE_MS, this.slotLeaseMs);
  }

  exempt(user: AuthUser): boolean {
    return this.settings.exemptAdmins && user.isAdmin;
  }

  /** The per-user request rate of an ordinary authenticated request. */
  async checkRequest(user: AuthUser): Promise<void> {
    const limit = this.settings.userRequestsPerMinute;
    if (!limit || this.exempt(user)) return;
    await this.decide({ rates: [{ key: `u:${enc(user.id)}`, limit }] }, [{ who: 'user' }], []);
  }

  /**
   * A run-starting request: the user's request rate, the project's rate of run-starting requests
   * and, when `runId` is given, a concurrency slot of the user and of the project for that run.
   */
  async admitRun(user: AuthUser, project: string, runId?: string): Promise<void> {
    if (this.exempt(user)) return;
    const s = this.settings;
    const a: Admission = { rates: [] };
    const rateScopes: Scope[] = [];
    if (s.userRequestsPerMinute) {
      a.rates.push({ key: `u:${enc(user.id)}`, limit: s.userRequestsPerMinute });
      rateScopes.push({ who: 'user' });
    }
    if (s.projectRequestsPerMinute) {
      a.rates.push({ key: `p:${enc(project)}`, limit: s.projectRequestsPerMinute });
      rateScopes.push({ who: 'project', project });
    }
    const slotScopes: Scope[] = [];
    if (runId && (s.userConcurrentRuns || s.projectConcurrentRuns)) {
      const rules = [];
      if (s.userConcurrentRuns) {
        rules.push({ key: `u:${enc(user.id)}`, limit: s.userConcurrentRuns });
        slotScopes.push({ who: 'user' });
      }
      if (s.projectConcurrentRuns) {
        rules.push({ key: `p:${enc(project)}`, limit: s.projectConcurrentRuns });
        slotScopes.push({ who: 'project', project });
      }
      a.slots = { runId, rules, leaseMs: this.queuedLeaseMs };
    }
    if (!a.rates.length && !a.slots) return;
    await this.decide(a, rateScopes, slotScopes);
  }

  admission(user: AuthUser, onAttempt?: () => void): RunAdmission {
    let taken: string | undefined;
    return {
      admit: async (project, runId) => {
        onAttempt?.();
        await this.admitRun(user, project, runId);
        taken = runId;
      },
      rollback: async () => {
        if (taken) await this.release(taken);
      },
    };
  }

  /** Frees a run's slots (never throws). */
  async release(runId: string): Promise<void> {
    try {
      await this.backend.release(runId);
    } catch (err) {
      this.warn(err, 'could not free a run slot; it lapses with its lease');
    }
  }

  /**
   * The run queue, with slot bookkeeping around every handler: a run's slots are re-taken and
   * refreshed while it executes here and freed when it ends (unless it was only handed back at
   * shutdown: another worker continues it), when the queue gives it up, or when it is aborted.
   */
  trackRuns(inner: RunQueue): RunQueue {
    return {
      register: <T>(kind: string, handler: RunHandler<T>, onGiveUp?: GiveUpHandler<T>) =>
        inner.register<T>(
          kind,
          async (job, signal) => {
            this.started(job.runId);
            let finished = false;
            try {
              await handler(job, signal);
              finished = abortReason(signal) !== 'shutdown';
            } finally {
              // A handler that threw keeps its slots while its queue may try it again; they are
              // freed when the queue gives up on it (below), at the latest when the lease lapses.
              this.stopped(job.runId);
              if (finished) await this.release(job.runId);
            }
          },
          // Always registered, so a run given up frees its slots even when the kind records nothing.
          async (job: RunJob<T>, reason: string) => {
            try {
              await onGiveUp?.(job, reason);
            } finally {
              await this.release(job.runId);
            }
          },
        ),
      enqueue: (kind, runId, data) => inner.enqueue(kind, runId, data),
      abort: async (runId) => {
        const found = await inner.abort(runId);
        // A dropped queued run never reaches a handler; a running one is ending.
        await this.release(runId);
        return found;
      },
      start: () => inner.start(),
      stop: async (graceMs) => {
        await inner.stop(graceMs);
        this.close();
      },
      stats: () => inner.stats(),
    };
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private started(runId: string): void {
    this.running.add(runId);
    void this.backend.refresh([runId], this.slotLeaseMs).catch((err) => this.warn(err, 'could not refresh run slots'));
    this.timer ??= setInterval(() => {
      if (!this.running.size) return this.close();
      void this.backend.refresh([...this.running], this.slotLeaseMs).catch((err) => this.warn(err, 'could not refresh run slots'));
    }, this.refreshEveryMs).unref();
  }

  private stopped(runId: string): void {
    this.running.delete(runId);
  }

  private async decide(a: Admission, rateScopes: Scope[], slotScopes: Scope[]): Promise<void> {
    let denial;
    try {
      denial = await this.backend.admit(a);
    } catch (err) {
      this.warn(err, 'fair-use limits unavailable; request let through');
      return;
    }
    if (!denial) return;
    if (denial.kind === 'rate') {
      const scope = rateScopes[denial.index]!;
      const limit = a.rates[denial.index]!.limit;
      const seconds = Math.max(1, Math.ceil(denial.retryAfterMs / 1000));
      this.metrics?.fairUseRejections.inc({ scope: scope.who, limit: 'rate' });
      throw tooManyRequests(
        seconds,
        scope.who === 'user'
          ? `Fair-use limit reached: at most ${limit} requests per minute per user. Retry after ${seconds} s.`
          : `Fair-use limit reached: at most ${limit} run-starting requests per minute in project '${scope.project}'. Retry after ${seconds} s.`,
      );
    }
    const scope = slotScopes[denial.index]!;
    const limit = a.slots!.rules[denial.index]!.limit;
    this.metrics?.fairUseRejections.inc({ scope: scope.who, limit: 'concurrency' });
    throw tooManyRequests(
      CONCURRENCY_RETRY_AFTER_S,
      scope.who === 'user'
        ? `Fair-use limit reached: at most ${limit} concurrent runs per user. Start this one when one of your runs has finished.`
        : `Fair-use limit reached: at most ${limit} concurrent runs in project '${scope.project}'. Start this one when one of the project's runs has finished.`,
    );
  }

  /** At most one warning per 10 s: a Redis outage must not flood the log from the hot path. */
  private warn(err: unknown, msg: string): void {
    const now = Date.now();
    if (now - this.warnedAt < 10_000) return;
    this.warnedAt = now;
    this.log.warn({ err: err instanceof Error ? err.message : String(err) }, msg);
  }
}
