/** `GET /v1/healthcheck` (liveness and readiness) and `GET /v1/info`, both public as in the reference. */
import { z } from 'zod';
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import { defineRoute } from '../api/route.js';
import { ping } from '../store/db.js';
import { pingRedis } from '../store/redis-ping.js';

const healthSchema = z
  .object({
    status: z.enum(['healthy', 'unhealthy']),
    memory_usage_mb: z.number(),
    cpu_percent: z.number(),
    worker_pid: z.number().int(),
    database: z.enum(['sqlite', 'postgres']),
    /** `disabled` without REDIS_URL; `down` when Redis does not answer PING within 1 s (→ 503). */
    redis: z.enum(['ok', 'down', 'disabled']),
  })
  .meta({ id: 'Health' });

const infoSchema = z.object({ message: z.string(), version: z.string(), description: z.string() }).meta({ id: 'Info' });

let lastCpu = process.cpuUsage();
let lastAt = process.hrtime.bigint();

/** CPU used by this process since the previous call, as a percentage of one core. */
function cpuPercent(): number {
  const now = process.hrtime.bigint();
  const usage = process.cpuUsage(lastCpu);
  const elapsedUs = Number(now - lastAt) / 1000;
  lastCpu = process.cpuUsage();
  lastAt = now;
  return elapsedUs > 0 ? Math.round(((usage.user + usage.system) / elapsedUs) * 1000) / 10 : 0;
}

export function healthModule(infra: Infra): Module<null> {
  const tags = ['health'];
  return {
    name: 'health',
    services: null,
    routes: [
      defineRoute({
        method: 'GET',
        path: '/healthcheck',
        access: 'public',
        tags,
        summary: 'Liveness and readiness (503 when the database or Redis does not answer)',
        responses: { 200: healthSchema, 503: healthSchema },
        async handler({ respond }) {
          const [dbOk, redis] = await Promise.all([
            ping(infra.store.db),
            infra.redis ? pingRedis(infra.redis).then((up) => (up ? ('ok' as const) : ('down' as const))) : ('disabled' as const),
          ]);
          const ok = dbOk && redis !== 'down';
          const body = {
            status: ok ? ('healthy' as const) : ('unhealthy' as const),
            memory_usage_mb: Math.round((process.memoryUsage().rss / 1024 / 1024) * 10) / 10,
            cpu_percent: cpuPercent(),
            worker_pid: process.pid,
            database: infra.store.dialect,
            redis,
          };
          return ok ? body : respond(503, body);
        },
      }),
      defineRoute({
        method: 'GET',
        path: '/info',
        access: 'public',
        tags,
        summary: 'Platform name and version',
        responses: { 200: infoSchema },
        handler: () => ({ message: 'Codemie', version: infra.version, description: "Smart AI assistant 'CodeMie'" }),
      }),
    ],
  };
}
