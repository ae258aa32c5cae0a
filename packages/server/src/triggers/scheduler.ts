/**
 * Schedules: Scheduler integrations (`schedule` cron, `timezone` (IANA, default UTC), `is_enabled`,
 * `resource_type` workflow | assistant, `resource_id`, optional `prompt`) start their target at each
 * tick, as the integration's owner.
 *
 * - One node (no REDIS_URL): an in-process timer per enabled schedule, armed for its next tick.
 * - Scale-out (REDIS_URL): one BullMQ job scheduler per schedule (`upsertJobScheduler`, same cron
 *   parser and time zone); BullMQ hands each tick's job to exactly one worker.
 * - In both, a tick is claimed by inserting its `schedule_ticks` row (primary key: schedule + tick
 *   time) before anything starts, so a tick never runs twice, even when a killed worker's job is
 *   retried by another one or several in-process nodes share one database.
 * - Missed ticks (policy): a tick handled more than CODEMIE_SCHEDULE_MISSED_GRACE_SECONDS (60 s)
 *   after its time, because every process was down or busy, is recorded as `missed` and not run;
 *   there is no catch-up, the schedule continues with its next tick.
 * - Changes: this process re-reads schedules when one of its integrations changes, and every
 *   30 s for changes made by other processes.
 */
import os from 'node:os';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { Config } from '../config/config.js';
import type { Database } from '../store/schema.js';
import { stringValue, truthy, valueOf } from '../integrations/kinds.js';
import type { Integration, IntegrationService } from '../integrations/service.js';
import { nextTick } from './cron.js';
import type { Launcher } from './launch.js';

export const DEFAULT_TASK_PROMPT = 'Do it';
const QUEUE = 'schedules';
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface ScheduleSpec {
  id: string;
  cron: string;
  tz: string;
  resourceType: string;
  resourceId: string;
}

export type TickOutcome = 'started' | 'failed' | 'missed' | 'skipped' | 'duplicate';

export function specOf(i: Integration): ScheduleSpec | null {
  const cron = stringValue(i.values, 'schedule')?.trim();
  if (!cron || !truthy(valueOf(i.values, 'is_enabled'))) return null;
  return {
    id: i.id,
    cron,
    tz: stringValue(i.values, 'timezone') || 'UTC',
    resourceType: stringValue(i.values, 'resource_type') ?? '',
    resourceId: stringValue(i.values, 'resource_id') ?? '',
  };
}

export interface SchedulerDeps {
  db: Kysely<Database>;
  integrations: IntegrationService;
  launcher: Launcher;
  config: Config;
  log: FastifyBaseLogger;
  /** Name of this process in `schedule_ticks.node`. */
  node?: string;
}

export class Scheduler {
  /** BullMQ mode: what this process last upserted per schedule (cron|tz). */
  private readonly upserted = new Map<string, string>();
  private readonly timers = new Map<string, { spec: ScheduleSpec; timer: NodeJS.Timeout }>();
  private poll?: NodeJS.Timeout;
  private stopped = false;
  private syncing: Promise<void> | undefined;
  private resync = false;
  private bull?: { queue: import('bullmq').Queue; worker: import('bullmq').Worker; connections: import('ioredis').Redis[] };
  readonly node: string;

  constructor(private readonly deps: SchedulerDeps) {
    this.node = deps.node ?? `${os.hostname()}:${process.pid}`;
  }

  get mode(): 'bullmq' | 'in-process' {
    return this.deps.config.redisUrl ? 'bullmq' : 'in-process';
  }

  async start(): Promise<void> {
    if (this.deps.config.redisUrl) await this.startBull(this.deps.config.redisUrl);
    await this.sync();
    this.poll = setInterval(() => void this.sync().catch((err) => this.deps.log.error({ err }, 'schedule sync failed')), 30_000);
    this.poll.unref();
    this.deps.log.info({ mode: this.mode }, 'scheduler started');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    if (this.bull) {
      await this.bull.worker.close();
      await this.bull.queue.close();
      for (const c of this.bull.connections) c.disconnect();
    }
  }

  /** Re-reads the schedules (single-flight; a call during a sync runs one more after it). */
  sync(): Promise<void> {
    if (this.syncing) {
      this.resync = true;
      return this.syncing;
    }
    this.syncing = this.doSync().finally(() => {
      this.syncing = undefined;
      if (this.resync && !this.stopped) {
        this.resync = false;
        void this.sync();
      }
    });
    return this.syncing;
  }

  private async specs(): Promise<ScheduleSpec[]> {
    const out: ScheduleSpec[] = [];
    for (const i of await this.deps.integrations.allOfType('Scheduler')) {
      const s = specOf(i);
      if (s) out.push(s);
    }
    return out;
  }

  private async doSync(): Promise<void> {
    if (this.stopped) return;
    const specs = await this.specs();
    if (this.bull) {
      const { queue } = this.bull;
      const wanted = new Set(specs.map((s) => s.id));
      for (const s of specs) {
        const key = `${s.cron}|${s.tz}`;
        if (this.upserted.get(s.id) === key) continue;
        this.upserted.set(s.id, key);
        await queue.upsertJobScheduler(
          s.id,
          { pattern: s.cron, tz: s.tz },
          { name: 'tick', data: { integrationId: s.id }, opts: { removeOnComplete: 100, removeOnFail: 100 } },
        );
      }
      for (const j of await queue.getJobSchedulers(0, -1)) {
        const id = j.key ?? (j as { id?: string }).id;
        if (id && !wanted.has(id)) {
          await queue.removeJobScheduler(id);
          this.upserted.delete(id);
        }
      }
      return;
    }
    const seen = new Set<string>();
    for (const s of specs) {
      seen.add(s.id);
      const cur = this.timers.get(s.id);
      if (cur && cur.spec.cron === s.cron && cur.spec.tz === s.tz) continue;
      if (cur) clearTimeout(cur.timer);
      this.arm(s);
    }
    for (const [id, { timer }] of this.timers) {
      if (!seen.has(id)) {
        clearTimeout(timer);
        this.timers.delete(id);
      }
    }
  }

  private arm(s: ScheduleSpec, after = new Date()): void {
    if (this.stopped) return;
    let at: Date;
    try {
      at = nextTick(s.cron, s.tz, after);
    } catch (err) {
      this.deps.log.error({ err, schedule: s.id }, 'schedule has an unusable cron expression');
      return;
    }
    const delay = at.getTime() - Date.now();
    const timer = setTimeout(
      () => {
        if (delay > MAX_TIMER_MS) return this.arm(s); // far away: wait again
        // The next tick is armed first, from the tick time: a slow start never shifts the schedule.
        this.arm(s, at);
        void this.fire(s.id, at).catch((err) => this.deps.log.error({ err, schedule: s.id }, 'schedule tick failed'));
      },
      Math.max(0, Math.min(delay, MAX_TIMER_MS)),
    );
    timer.unref();
    this.timers.set(s.id, { spec: s, timer });
  }

  /** When this process would next fire a schedule (in-process mode). */
  nextRun(id: string): Date | undefined {
    const t = this.timers.get(id);
    return t ? nextTick(t.spec.cron, t.spec.tz, new Date()) : undefined;
  }

  /** Runs one tick of a schedule: claim, check, start. Safe to call from any number of processes. */
  async fire(integrationId: string, tickAt: Date): Promise<TickOutcome> {
    const tick = new Date(Math.floor(tickAt.getTime() / 1000) * 1000).toISOString();
    const i = await this.deps.integrations.byId(integrationId);
    const spec = i ? specOf(i) : null;
    const late = Date.now() - tickAt.getTime() > this.deps.config.scheduleMissedGraceSeconds * 1000;
    const outcome: TickOutcome = !spec ? 'skipped' : late ? 'missed' : 'started';
    try {
      await this.deps.db
        .insertInto('schedule_ticks')
        .values({
          integration_id: integrationId,
          tick_at: tick,
          fired_at: new Date().toISOString(),
          node: this.node,
          resource_type: spec?.resourceType ?? '',
          resource_id: spec?.resourceId ?? '',
          run_id: null,
          outcome,
          error: null,
        })
        .execute();
    } catch (err) {
      if (/unique|duplicate|primary key/i.test((err as Error).message)) return 'duplicate';
      throw err;
    }
    if (outcome !== 'started' || !i || !spec) {
      if (outcome === 'missed') this.deps.log.warn({ schedule: integrationId, tick }, 'schedule tick missed (not run: see the missed-tick policy)');
      return outcome;
    }
    const prompt = stringValue(i.values, 'prompt')?.trim() || DEFAULT_TASK_PROMPT;
    try {
      const launched = await this.deps.launcher.launch(spec.resourceType, spec.resourceId, prompt, { kind: 'schedule', integration: i });
      await this.deps.db
        .updateTable('schedule_ticks')
        .set({ run_id: launched.runId })
        .where('integration_id', '=', integrationId)
        .where('tick_at', '=', tick)
        .execute();
      this.deps.log.info({ schedule: integrationId, tick, runId: launched.runId, node: this.node }, 'schedule fired');
      return 'started';
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await this.deps.db
        .updateTable('schedule_ticks')
        .set({ outcome: 'failed', error: message.slice(0, 2000) })
        .where('integration_id', '=', integrationId)
        .where('tick_at', '=', tick)
        .execute();
      this.deps.log.error({ schedule: integrationId, tick, err: message }, 'schedule could not start its target');
      return 'failed';
    }
  }

  private async startBull(redisUrl: string): Promise<void> {
    const [{ Queue, Worker }, { Redis }] = await Promise.all([import('bullmq'), import('ioredis')]);
    const qConn = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const wConn = new Redis(redisUrl, { maxRetriesPerRequest: null });
    for (const c of [qConn, wConn]) c.on('error', (err) => this.deps.log.warn({ err: err.message }, 'redis (schedules) connection error'));
    const prefix = this.deps.config.redisPrefix;
    const queue = new Queue(QUEUE, { connection: qConn, prefix });
    queue.on('error', (err) => this.deps.log.warn({ err: err.message }, 'schedule queue error'));
    const worker = new Worker(
      QUEUE,
      async (job) => {
        // Job scheduler jobs are `repeat:<scheduler id>:<tick millis>`.
        const m = /^repeat:(.+):(\d+)$/.exec(job.id ?? '');
        const id = (job.data as { integrationId?: string }).integrationId ?? m?.[1];
        const at = m ? Number(m[2]) : job.timestamp + (job.opts.delay ?? 0);
        if (id) await this.fire(id, new Date(at));
      },
      { connection: wConn, prefix, concurrency: 4, autorun: this.deps.config.schedulerEnabled },
    );
    worker.on('error', (err) => this.deps.log.warn({ err: err.message }, 'schedule worker error'));
    this.bull = { queue, worker, connections: [qConn, wConn] };
  }
}
