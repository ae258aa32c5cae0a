/**
 * Where fair-use counters live: one small interface, two implementations (memory.ts for one
 * process, redis.ts for a deployment of many). Both answer a whole admission atomically: either
 * every rule passes and all of them are counted, or nothing changes and the first failing rule
 * is named. Keys are opaque here (fair-use.ts builds them from user ids and project names).
 */

/** At most `limit` admitted requests per fixed window (the window starts at a key's first request). */
export interface RateRule {
  key: string;
  limit: number;
}

/** At most `limit` runs holding a slot of `key` at once. */
export interface SlotRule {
  key: string;
  limit: number;
}

export interface Admission {
  rates: RateRule[];
  /** Concurrency slots to take for a run (all of them, or none). */
  slots?: { runId: string; rules: SlotRule[]; leaseMs: number };
}

/** Which rule refused: its index in `rates` or `slots.rules`; for a rate, when its window ends. */
export type Denial = { kind: 'rate'; index: number; retryAfterMs: number } | { kind: 'concurrency'; index: number };

export interface LimitBackend {
  /** Checks every rule; when all pass, counts the request and takes the run's slots. Null = admitted. */
  admit(a: Admission): Promise<Denial | null>;
  /**
   * Extends the leases of these runs' slots (re-taking them if they had expired: the runs are
   * really running). Runs without slots (never admitted, or released) are ignored.
   */
  refresh(runIds: string[], leaseMs: number): Promise<void>;
  /** Frees a run's slots; a no-op for a run holding none. */
  release(runId: string): Promise<void>;
}

/** How long a run's record of its slots is kept without a refresh (it is refreshed while the run runs). */
export const RECORD_TTL_MS = 24 * 3600_000;
