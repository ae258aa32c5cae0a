/**
 * Fair-use counters in Redis, shared by every API and worker process of a deployment. Each
 * operation is ONE Lua script call (atomic, one round trip), timed by Redis's own clock so the
 * processes' clocks never matter.
 *
 * Keys (under the deployment's CODEMIE_REDIS_PREFIX):
 *   <prefix>:limits:rate:<key>   a counter, PEXPIREd at the end of its fixed window
 *   <prefix>:limits:slots:<key>  a sorted set: member = run id, score = lease expiry (ms)
 *   <prefix>:limits:run:<runId>  the slot keys a run holds (so any process can refresh or free them)
 * Expired leases are dropped when a set is next checked; every key also expires on its own.
 * The scripts touch keys named in the run record, so this needs one Redis (not Redis Cluster),
 * like the rest of the scale-out mode.
 */
import type { Redis } from 'ioredis';
import { RECORD_TTL_MS, type Admission, type Denial, type LimitBackend } from './backend.js';

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * KEYS: nr rate keys, ns slot keys, then (ns > 0) the run record key.
 * ARGV: nr, ns, windowMs, runId, leaseMs, recordTtlMs, nr rate limits, ns slot limits.
 * Returns {0} admitted, {1, i, pttl} rate i exceeded, {2, j} slot j full.
 */
const ADMIT = `${NOW}
local nr, ns = tonumber(ARGV[1]), tonumber(ARGV[2])
for i = 1, nr do
  local c = tonumber(redis.call('GET', KEYS[i]) or '0')
  if c >= tonumber(ARGV[6 + i]) then
    local ttl = redis.call('PTTL', KEYS[i])
    if ttl < 0 then ttl = tonumber(ARGV[3]) end
    return {1, i, ttl}
  end
end
for j = 1, ns do
  local k = KEYS[nr + j]
  redis.call('ZREMRANGEBYSCORE', k, '-inf', now)
  if not redis.call('ZSCORE', k, ARGV[4]) and redis.call('ZCARD', k) >= tonumber(ARGV[6 + nr + j]) then
    return {2, j}
  end
end
for i = 1, nr do
  if redis.call('INCR', KEYS[i]) == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
end
if ns > 0 then
  local held = {}
  for j = 1, ns do
    local k = KEYS[nr + j]
    redis.call('ZADD', k, now + tonumber(ARGV[5]), ARGV[4])
    redis.call('PEXPIRE', k, ARGV[6])
    held[j] = k
  end
  redis.call('SET', KEYS[nr + ns + 1], table.concat(held, '\\n'), 'PX', ARGV[6])
end
return {0}`;

/** KEYS: run record keys. ARGV: leaseMs, recordTtlMs, then the run ids (same order). */
const REFRESH = `${NOW}
for i = 1, #KEYS do
  local held = redis.call('GET', KEYS[i])
  if held then
    for k in string.gmatch(held, '[^\\n]+') do
      redis.call('ZADD', k, now + tonumber(ARGV[1]), ARGV[2 + i])
      redis.call('PEXPIRE', k, ARGV[2])
    end
    redis.call('PEXPIRE', KEYS[i], ARGV[2])
  end
end
return 0`;

/** KEYS[1]: run record key. ARGV[1]: run id. */
const RELEASE = `local held = redis.call('GET', KEYS[1])
if not held then return 0 end
for k in string.gmatch(held, '[^\\n]+') do redis.call('ZREM', k, ARGV[1]) end
redis.call('DEL', KEYS[1])
return 1`;

type Script = (...args: Array<string | number>) => Promise<unknown>;

export class RedisLimitBackend implements LimitBackend {
  private readonly admitScript: Script;
  private readonly refreshScript: Script;
  private readonly releaseScript: Script;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly windowMs: number,
  ) {
    // ioredis sends EVALSHA and falls back to EVAL once per connection (NOSCRIPT).
    redis.defineCommand('codemieLimitAdmit', { lua: ADMIT });
    redis.defineCommand('codemieLimitRefresh', { lua: REFRESH });
    redis.defineCommand('codemieLimitRelease', { lua: RELEASE });
    const r = redis as unknown as Record<string, Script>;
    this.admitScript = r.codemieLimitAdmit!.bind(redis);
    this.refreshScript = r.codemieLimitRefresh!.bind(redis);
    this.releaseScript = r.codemieLimitRelease!.bind(redis);
  }

  async admit(a: Admission): Promise<Denial | null> {
    this.ready();
    const rules = a.slots?.rules ?? [];
    const keys = [...a.rates.map((r) => this.key('rate', r.key)), ...rules.map((r) => this.key('slots', r.key))];
    if (rules.length) keys.push(this.key('run', a.slots!.runId));
    const res = (await this.admitScript(
      keys.length,
      ...keys,
      a.rates.length,
      rules.length,
      this.windowMs,
      a.slots?.runId ?? '',
      a.slots?.leaseMs ?? 0,
      RECORD_TTL_MS,
      ...a.rates.map((r) => r.limit),
      ...rules.map((r) => r.limit),
    )) as number[];
    if (res[0] === 1) return { kind: 'rate', index: res[1]! - 1, retryAfterMs: res[2]! };
    if (res[0] === 2) return { kind: 'concurrency', index: res[1]! - 1 };
    return null;
  }

  async refresh(runIds: string[], leaseMs: number): Promise<void> {
    if (!runIds.length) return;
    this.ready();
    await this.refreshScript(runIds.length, ...runIds.map((id) => this.key('run', id)), leaseMs, RECORD_TTL_MS, ...runIds);
  }

  async release(runId: string): Promise<void> {
    this.ready();
    await this.releaseScript(1, this.key('run', runId), runId);
  }

  /** While Redis is unreachable, fail at once (the caller lets the request through) instead of queueing. */
  private ready(): void {
    if (this.redis.status !== 'ready') throw new Error(`redis is not connected (${this.redis.status})`);
  }

  private key(kind: 'rate' | 'slots' | 'run', key: string): string {
    return `${this.prefix}:limits:${kind}:${key}`;
  }
}
