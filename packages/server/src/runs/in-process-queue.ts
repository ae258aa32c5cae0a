/** The single-node run queue: a FIFO with bounded concurrency inside this process. */
import type { FastifyBaseLogger } from 'fastify';
import { abortReason, type GiveUpHandler, type RunHandler, type RunJob, type RunQueue, type RunQueueStats } from './queue.js';

interface Running {
  job: RunJob;
  controller: AbortController;
  done: Promise<void>;
}

export class InProcessRunQueue implements RunQueue {
  private readonly handlers = new Map<string, RunHandler>();
  private readonly giveUp = new Map<string, GiveUpHandler>();
  private readonly waiting: RunJob[] = [];
  private readonly running = new Map<string, Running>();
  private accepting = false;

  constructor(
    private readonly concurrency: number,
    private readonly log: FastifyBaseLogger,
  ) {}

  /**
   * Runs here get one attempt: a handler that throws has given up (`onGiveUp`), unless it was
   * stopped by shutdown (recovery enqueues it again at the next start). A crash ends the process.
   */
  register<T>(kind: string, handler: RunHandler<T>, onGiveUp?: GiveUpHandler<T>): void {
    this.handlers.set(kind, handler as RunHandler);
    if (onGiveUp) this.giveUp.set(kind, onGiveUp as GiveUpHandler);
  }

  async enqueue(kind: string, runId: string, data: unknown = null): Promise<void> {
    if (!this.handlers.has(kind)) throw new Error(`no handler registered for run kind '${kind}'`);
    if (this.running.has(runId) || this.waiting.some((j) => j.runId === runId)) return;
    this.waiting.push({ kind, runId, data, attempt: 1 });
    this.pump();
  }

  async abort(runId: string): Promise<boolean> {
    const idx = this.waiting.findIndex((j) => j.runId === runId);
    if (idx >= 0) {
      this.waiting.splice(idx, 1);
      return true;
    }
    const r = this.running.get(runId);
    if (!r) return false;
    r.controller.abort('user');
    return true;
  }

  async start(): Promise<void> {
    this.accepting = true;
    this.pump();
  }

  async stop(graceMs = 5000): Promise<void> {
    this.accepting = false;
    const all = [...this.running.values()];
    if (!all.length) return;
    const grace = new Promise<void>((r) => setTimeout(r, graceMs).unref());
    await Promise.race([Promise.allSettled(all.map((r) => r.done)), grace]);
    for (const r of this.running.values()) r.controller.abort('shutdown');
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
  }

  stats(): RunQueueStats {
    return { queued: this.waiting.length, running: this.running.size, concurrency: this.concurrency };
  }

  private pump(): void {
    while (this.accepting && this.running.size < this.concurrency && this.waiting.length) {
      const job = this.waiting.shift()!;
      const handler = this.handlers.get(job.kind)!;
      const controller = new AbortController();
      const done = Promise.resolve()
        .then(() => handler(job, controller.signal))
        .catch(async (err) => {
          this.log.error({ err, runId: job.runId, kind: job.kind }, 'run handler failed');
          const onGiveUp = this.giveUp.get(job.kind);
          if (!onGiveUp || abortReason(controller.signal) === 'shutdown') return;
          await onGiveUp(job, err instanceof Error ? err.message : String(err)).catch((e: unknown) =>
            this.log.error({ err: e, runId: job.runId }, 'could not record a failed run'),
          );
        })
        .finally(() => {
          this.running.delete(job.runId);
          this.pump();
        });
      this.running.set(job.runId, { job, controller, done });
    }
  }
}
