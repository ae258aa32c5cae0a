/**
 * The run queue: where workflow executions and assistant background tasks are executed.
 * Two implementations share this interface: in-process (default, one node) and BullMQ on
 * Redis (scale-out). Durability is the domain's job: it persists run state as it goes and,
 * on start-up, re-enqueues runs that were in progress (handlers must resume from the last
 * persisted state, never redo finished work).
 */
export interface RunJob<T = unknown> {
  kind: string;
  runId: string;
  data: T;
  /** 1 on the first attempt; higher after a crash/lease loss. */
  attempt: number;
}

/** Why a run's signal fired: a user asked (abort API) or the process is shutting down. */
export type AbortReason = 'user' | 'shutdown';

export type RunHandler<T = unknown> = (job: RunJob<T>, signal: AbortSignal) => Promise<void>;

export type GiveUpHandler<T = unknown> = (job: RunJob<T>, reason: string) => Promise<void>;

export interface RunQueueStats {
  queued: number;
  running: number;
  concurrency: number;
}

export interface RunQueue {
  /**
   * Registers the handler for a kind of run (before start()). `onGiveUp` is called when a
   * run exhausted its attempts (scale-out mode: crashes/lease losses), so the domain can mark it Failed.
   */
  register<T>(kind: string, handler: RunHandler<T>, onGiveUp?: GiveUpHandler<T>): void;
  /** Adds a run. Enqueueing a runId that is already queued or running is a no-op. */
  enqueue(kind: string, runId: string, data?: unknown): Promise<void>;
  /**
   * Asks a run to stop wherever it executes. Its handler's signal fires with reason 'user'.
   * A queued run is dropped. Resolves true when the run was queued or running.
   */
  abort(runId: string): Promise<boolean>;
  start(): Promise<void>;
  /** Stops taking runs; waits up to graceMs for running ones, then signals them with 'shutdown'. */
  stop(graceMs?: number): Promise<void>;
  stats(): RunQueueStats;
}

export function abortReason(signal: AbortSignal): AbortReason | null {
  if (!signal.aborted) return null;
  return signal.reason === 'shutdown' ? 'shutdown' : 'user';
}
