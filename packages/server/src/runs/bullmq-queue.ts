/**
 * The scale-out run queue on BullMQ/Redis. API processes enqueue; worker processes (and
 * `all` processes) consume with bounded concurrency. A worker that dies loses its job lock;
 * BullMQ's stalled-job check hands the job to another worker (attempt + 1), whose handler
 * resumes from the run's last persisted state. Aborts travel over Redis pub/sub so they
 * reach whichever worker runs the job.
 */
import { Queue, Worker, DelayedError, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';
import type { GiveUpHandler, RunHandler, RunQueue, RunQueueStats } from './queue.js';

export interface BullMqOptions {
  redisUrl: string;
  concurrency: number;
  /** Run workers in this process (false for API-only processes). */
  consume: boolean;
  /** Attempts per run before it is given up (a crash or lease loss costs one). */
  maxAttempts?: number;
  /** How long a worker's lock lives without renewal; a dead worker's runs move after this. */
  lockDurationMs?: number;
  /** Key prefix, so several deployments (or test runs) can share one Redis. */
  prefix?: string;
  queueName?: string;
}

interface JobData {
  kind: string;
  runId: string;
  data: unknown;
}

const ABORT_CHANNEL = 'abort';

export class BullMqRunQueue implements RunQueue {
  private readonly handlers = new Map<string, RunHandler>();
  private readonly giveUp = new Map<string, GiveUpHandler>();
  private readonly running = new Map<string, AbortController>();
  private readonly queue: Queue<JobData>;
  private readonly publisher: Redis;
  private subscriber?: Redis;
  private worker?: Worker<JobData>;
  private readonly prefix: string;
  private readonly queueName: string;

  constructor(
    private readonly opts: BullMqOptions,
    private readonly log: FastifyBaseLogger,
  ) {
    this.prefix = opts.prefix ?? 'codemie';
    this.queueName = opts.queueName ?? 'runs';
    this.publisher = new Redis(opts.redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
    this.publisher.on('error', (err) => log.warn({ err: err.message }, 'redis (queue) connection error'));
    this.queue = new Queue<JobData>(this.queueName, { connection: this.publisher, prefix: this.prefix });
    // Without a listener the Queue prints its connection errors to stderr itself.
    this.queue.on('error', (err) => log.warn({ err: err.message }, 'run queue error'));
  }

  register<T>(kind: string, handler: RunHandler<T>, onGiveUp?: GiveUpHandler<T>): void {
    this.handlers.set(kind, handler as RunHandler);
    if (onGiveUp) this.giveUp.set(kind, onGiveUp as GiveUpHandler);
  }

  async enqueue(kind: string, runId: string, data: unknown = null): Promise<void> {
    if (!this.handlers.has(kind)) throw new Error(`no handler registered for run kind '${kind}'`);
    const existing = await this.queue.getJob(runId);
    if (existing) {
      const state = await existing.getState();
      if (state === 'active' || state === 'waiting' || state === 'delayed' || state === 'prioritized') return;
      await existing.remove().catch(() => undefined); // finished earlier: make room for the new attempt
    }
    await this.queue.add(kind, { kind, runId, data }, {
      jobId: runId,
      attempts: this.opts.maxAttempts ?? 3,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: true,
      removeOnFail: { age: 24 * 3600 },
    });
  }

  async abort(runId: string): Promise<boolean> {
    const job = await this.queue.getJob(runId);
    if (!job) return false;
    const state = await job.getState();
    if (state === 'waiting' || state === 'delayed' || state === 'prioritized') {
      await job.remove().catch(() => undefined);
      return true;
    }
    if (state !== 'active') return false;
    await this.publisher.publish(this.channel(ABORT_CHANNEL), runId);
    return true;
  }

  async start(): Promise<void> {
    if (!this.opts.consume) return;
    this.subscriber = new Redis(this.opts.redisUrl, { maxRetriesPerRequest: null });
    this.subscriber.on('error', (err) => this.log.warn({ err: err.message }, 'redis (abort channel) connection error'));
    await this.subscriber.subscribe(this.channel(ABORT_CHANNEL));
    this.subscriber.on('message', (_ch, runId: string) => this.running.get(runId)?.abort('user'));

    this.worker = new Worker<JobData>(this.queueName, (job, token) => this.process(job, token), {
      connection: new Redis(this.opts.redisUrl, { maxRetriesPerRequest: null }),
      prefix: this.prefix,
      concurrency: this.opts.concurrency,
      lockDuration: this.opts.lockDurationMs ?? 30_000,
      stalledInterval: Math.max(1000, Math.floor((this.opts.lockDurationMs ?? 30_000) / 2)),
      maxStalledCount: Math.max(0, (this.opts.maxAttempts ?? 3) - 1),
    });
    this.worker.on('error', (err) => this.log.warn({ err: err.message }, 'run worker error'));
    this.worker.on('failed', (job, err) => {
      if (!job) return;
      const exhausted = job.attemptsMade >= (job.opts.attempts ?? 1) || /stalled more than allowable limit/i.test(err.message);
      const onGiveUp = this.giveUp.get(job.data.kind);
      if (exhausted && onGiveUp) {
        const { kind, runId, data } = job.data;
        void onGiveUp({ kind, runId, data, attempt: job.attemptsMade }, err.message).catch((e) =>
          this.log.error({ err: e, runId }, 'could not record a failed run'),
        );
      }
    });
  }

  private async process(job: Job<JobData>, token?: string): Promise<void> {
    const { kind, runId, data } = job.data;
    const handler = this.handlers.get(kind);
    if (!handler) throw new Error(`no handler registered for run kind '${kind}'`);
    const controller = new AbortController();
    this.running.set(runId, controller);
    const attempt = (job.attemptsStarted ?? job.attemptsMade) || 1;
    // Which process runs which run: the trail an operator (and the scale-out test) follows.
    if (attempt > 1) this.log.info({ runId, kind, attempt }, 'run taken over by this worker');
    else this.log.debug({ runId, kind, attempt }, 'run started on this worker');
    try {
      await handler({ kind, runId, data, attempt }, controller.signal);
    } finally {
      this.running.delete(runId);
    }
    if (controller.signal.reason === 'shutdown' && token) {
      // The handler left its run resumable; put the job back for another worker without spending an attempt.
      await job.moveToDelayed(Date.now(), token);
      this.log.info({ runId, kind }, 'run handed back for another worker (shutdown)');
      throw new DelayedError();
    }
  }

  async stop(graceMs = 5000): Promise<void> {
    if (this.worker) {
      const closing = this.worker.close();
      const timer = new Promise<void>((r) => setTimeout(r, graceMs).unref());
      await Promise.race([closing, timer]);
      for (const c of this.running.values()) c.abort('shutdown');
      await closing.catch(() => undefined);
    }
    await this.subscriber?.quit().catch(() => undefined);
    await this.queue.close().catch(() => undefined);
    await this.publisher.quit().catch(() => undefined);
  }

  stats(): RunQueueStats {
    return { queued: 0, running: this.running.size, concurrency: this.opts.concurrency };
  }

  /** Waiting + delayed jobs across the whole deployment (for metrics). */
  async depth(): Promise<number> {
    const c = await this.queue.getJobCounts('waiting', 'delayed', 'prioritized');
    return (c.waiting ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0);
  }

  private channel(name: string): string {
    return `${this.prefix}:${this.queueName}:${name}`;
  }
}
