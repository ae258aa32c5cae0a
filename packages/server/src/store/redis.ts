/**
 * The process's Redis connection for short commands (fair-use counters, the health check ping),
 * when REDIS_URL is set. Separate from BullMQ's connections (which wait forever for Redis on
 * purpose) because these callers must never hang: every command fails after COMMAND_TIMEOUT_MS.
 */
import { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';

export const COMMAND_TIMEOUT_MS = 1000;

export function openRedisCommands(url: string, log: FastifyBaseLogger): Redis {
  const redis = new Redis(url, { commandTimeout: COMMAND_TIMEOUT_MS, maxRetriesPerRequest: 1 });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis (commands) connection error'));
  return redis;
}

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
