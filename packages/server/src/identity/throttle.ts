/**
 * Brute-force protection: after `maxFailures` failed logins for one principal (a user or a
 * client) within the lock-out window, that principal is refused for `lockoutSeconds`;
 * others are unaffected, and a successful login resets the count.
 *
 * Two stores behind one interface: in memory (one process), or Redis when the deployment runs
 * several API processes (REDIS_URL), so that a guesser cannot multiply its attempts by spreading
 * them over the replicas. Redis being unreachable never blocks logins: the process then falls
 * back to its own in-memory counts until Redis answers again.
 */
import type { Redis } from 'ioredis';

export interface LoginThrottle {
  /** Seconds until the principal may try again, or 0 when it may try now. */
  retryAfter(key: string): Promise<number>;
  failure(key: string): Promise<void>;
  success(key: string): Promise<void>;
}

export class MemoryLoginThrottle implements LoginThrottle {
  private readonly entries = new Map<string, { failures: number; first: number; lockedUntil: number }>();

  constructor(
    private readonly maxFailures: number,
    private readonly lockoutSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  async retryAfter(key: string): Promise<number> {
    const e = this.entries.get(key);
    if (!e) return 0;
    const t = this.now();
    if (e.lockedUntil > t) return Math.ceil((e.lockedUntil - t) / 1000);
    if (t - e.first > this.lockoutSeconds * 1000) this.entries.delete(key);
    return 0;
  }

  async failure(key: string): Promise<void> {
    const t = this.now();
    let e = this.entries.get(key);
    if (!e || t - e.first > this.lockoutSeconds * 1000 || e.lockedUntil) e = { failures: 0, first: t, lockedUntil: 0 };
    e.failures += 1;
    if (e.failures >= this.maxFailures) e.lockedUntil = t + this.lockoutSeconds * 1000;
    this.entries.set(key, e);
    if (this.entries.size > 100_000) this.prune(t);
  }

  async success(key: string): Promise<void> {
    this.entries.delete(key);
  }

  private prune(t: number): void {
    for (const [k, e] of this.entries) if (e.lockedUntil < t && t - e.first > this.lockoutSeconds * 1000) this.entries.delete(k);
  }
}

/**
 * KEYS: failures counter, lock flag. ARGV: maxFailures, lockout ms.
 * The counter lives for one window from the first failure; reaching the maximum sets the lock
 * for the lock-out time and starts the count afresh.
 */
const FAILURE = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if n >= tonumber(ARGV[1]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
  redis.call('DEL', KEYS[1])
end
return n`;

export class RedisLoginThrottle implements LoginThrottle {
  private readonly fallback: MemoryLoginThrottle;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly maxFailures: number,
    private readonly lockoutSeconds: number,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {
    this.fallback = new MemoryLoginThrottle(maxFailures, lockoutSeconds);
  }

  private keys(key: string): [string, string] {
    return [`${this.prefix}:login:fail:${key}`, `${this.prefix}:login:lock:${key}`];
  }

  private async guarded<T>(shared: () => Promise<T>, local: () => Promise<T>): Promise<T> {
    if (this.redis.status !== 'ready') return local();
    try {
      return await shared();
    } catch (err) {
      this.onError(err as Error);
      return local();
    }
  }

  retryAfter(key: string): Promise<number> {
    return this.guarded(
      async () => {
        const ms = await this.redis.pttl(this.keys(key)[1]);
        return ms > 0 ? Math.ceil(ms / 1000) : 0;
      },
      () => this.fallback.retryAfter(key),
    );
  }

  failure(key: string): Promise<void> {
    return this.guarded(
      async () => {
        await this.redis.eval(FAILURE, 2, ...this.keys(key), this.maxFailures, this.lockoutSeconds * 1000);
      },
      () => this.fallback.failure(key),
    );
  }

  success(key: string): Promise<void> {
    return this.guarded(
      async () => {
        await this.redis.del(this.keys(key)[0]);
      },
      () => this.fallback.success(key),
    );
  }
}
