/**
 * Fair-use counters in this process (the single-process default): plain maps, no I/O, so the
 * check on every request costs a map lookup. Slots carry the same leases as in Redis, so both
 * backends behave alike (and a run whose handler never reports back frees its slot eventually).
 */
import { RECORD_TTL_MS, type Admission, type Denial, type LimitBackend } from './backend.js';

interface Window {
  count: number;
  resetAt: number;
}

/** Expired windows are swept every this many admissions (keeps the maps bounded by active keys). */
const SWEEP_EVERY = 1000;

export class MemoryLimitBackend implements LimitBackend {
  private readonly windows = new Map<string, Window>();
  /** slot key → runId → lease expiry (ms). */
  private readonly slots = new Map<string, Map<string, number>>();
  /** runId → its slot keys and when the record expires. */
  private readonly runs = new Map<string, { keys: string[]; expiresAt: number }>();
  private calls = 0;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async admit(a: Admission): Promise<Denial | null> {
    return this.admitNow(a);
  }

  /** Synchronous core (the async wrapper only satisfies the interface). */
  admitNow(a: Admission): Denial | null {
    const now = this.now();
    if (++this.calls % SWEEP_EVERY === 0) this.sweep(now);
    for (let i = 0; i < a.rates.length; i++) {
      const r = a.rates[i]!;
      const w = this.windows.get(r.key);
      if (w && w.resetAt > now && w.count >= r.limit) return { kind: 'rate', index: i, retryAfterMs: w.resetAt - now };
    }
    if (a.slots) {
      for (let i = 0; i < a.slots.rules.length; i++) {
        const r = a.slots.rules[i]!;
        const held = this.live(r.key, now);
        if (held && !held.has(a.slots.runId) && held.size >= r.limit) return { kind: 'concurrency', index: i };
      }
    }
    for (const r of a.rates) {
      const w = this.windows.get(r.key);
      if (!w || w.resetAt <= now) this.windows.set(r.key, { count: 1, resetAt: now + this.windowMs });
      else w.count++;
    }
    if (a.slots && a.slots.rules.length) {
      const { runId, rules, leaseMs } = a.slots;
      for (const r of rules) this.hold(r.key, runId, now + leaseMs);
      this.runs.set(runId, { keys: rules.map((r) => r.key), expiresAt: now + RECORD_TTL_MS });
    }
    return null;
  }

  async refresh(runIds: string[], leaseMs: number): Promise<void> {
    const now = this.now();
    for (const runId of runIds) {
      const rec = this.runs.get(runId);
      if (!rec || rec.expiresAt <= now) continue;
      for (const key of rec.keys) this.hold(key, runId, now + leaseMs);
      rec.expiresAt = now + RECORD_TTL_MS;
    }
  }

  async release(runId: string): Promise<void> {
    const rec = this.runs.get(runId);
    if (!rec) return;
    this.runs.delete(runId);
    for (const key of rec.keys) {
      const held = this.slots.get(key);
      held?.delete(runId);
      if (held?.size === 0) this.slots.delete(key);
    }
  }

  /** Runs holding a slot of `key` (test and debugging aid). */
  holders(key: string): string[] {
    return [...(this.live(key, this.now())?.keys() ?? [])];
  }

  private hold(key: string, runId: string, until: number): void {
    let held = this.slots.get(key);
    if (!held) this.slots.set(key, (held = new Map()));
    held.set(runId, until);
  }

  /** The live holders of a slot key, expired leases dropped. */
  private live(key: string, now: number): Map<string, number> | undefined {
    const held = this.slots.get(key);
    if (!held) return undefined;
    for (const [runId, until] of held) if (until <= now) held.delete(runId);
    return held;
  }

  private sweep(now: number): void {
    for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
    for (const [k] of this.slots) if (!this.live(k, now)?.size) this.slots.delete(k);
    for (const [id, rec] of this.runs) if (rec.expiresAt <= now) this.runs.delete(id);
  }
}
