/**
 * Brute-force protection: after `maxFailures` failed logins for one principal (a user or a
 * client) within the lock-out window, that principal is refused for `lockoutSeconds`;
 * others are unaffected, and a successful login resets the count. State is per process
 * (a restart or another replica starts fresh), which bounds guessing to
 * maxFailures × replicas per window.
 */
export class LoginThrottle {
  private readonly entries = new Map<string, { failures: number; first: number; lockedUntil: number }>();

  constructor(
    private readonly maxFailures: number,
    private readonly lockoutSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until the principal may try again, or 0 when it may try now. */
  retryAfter(key: string): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    const t = this.now();
    if (e.lockedUntil > t) return Math.ceil((e.lockedUntil - t) / 1000);
    if (t - e.first > this.lockoutSeconds * 1000) this.entries.delete(key);
    return 0;
  }

  failure(key: string): void {
    const t = this.now();
    let e = this.entries.get(key);
    if (!e || t - e.first > this.lockoutSeconds * 1000 || e.lockedUntil) e = { failures: 0, first: t, lockedUntil: 0 };
    e.failures += 1;
    if (e.failures >= this.maxFailures) e.lockedUntil = t + this.lockoutSeconds * 1000;
    this.entries.set(key, e);
    if (this.entries.size > 100_000) this.prune(t);
  }

  success(key: string): void {
    this.entries.delete(key);
  }

  private prune(t: number): void {
    for (const [k, e] of this.entries) if (e.lockedUntil < t && t - e.first > this.lockoutSeconds * 1000) this.entries.delete(k);
  }
}
