/** The health check's Redis ping (kept apart from store/redis.ts so ioredis loads only with REDIS_URL). */
import type { Redis } from 'ioredis';

export const COMMAND_TIMEOUT_MS = 1000;

/** True when Redis answers PING within timeoutMs. */
export async function pingRedis(redis: Redis, timeoutMs = COMMAND_TIMEOUT_MS): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const pong = await Promise.race([redis.ping(), new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), timeoutMs)))]);
    return pong === 'PONG';
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
