/**
 * The process's Redis connection for short commands (fair-use counters, the health check ping),
 * when REDIS_URL is set. Separate from BullMQ's connections (which wait forever for Redis on
 * purpose) because these callers must never hang: every command fails after COMMAND_TIMEOUT_MS.
 */
import { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';

import { COMMAND_TIMEOUT_MS } from './redis-ping.js';

export function openRedisCommands(url: string, log: FastifyBaseLogger): Redis {
  const redis = new Redis(url, { commandTimeout: COMMAND_TIMEOUT_MS, maxRetriesPerRequest: 1 });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis (commands) connection error'));
  return redis;
}
