import { z } from 'zod';
import type { DomainModule } from '../context.js';
import { ping } from '../store/db.js';
import { pingRedis } from '../store/redis.js';

const healthSchema = z.object({
  status: z.enum(['healthy', 'unhealthy']),
  memory_usage_mb: z.number(),
  cpu_percent: z.number(),
  worker_pid: z.number().int(),
  database: z.enum(['sqlite', 'postgres']),
  /** `disabled` without REDIS_URL; `down` when Redis does not answer PING within 1 s (→ 503). */
  redis: z.enum(['ok', 'down', 'disabled']),
});

const infoSchema = z.object({ message: z.string(), version: z.string(), description: z.string() });

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

export const healthModule: DomainModule = {
  name: 'health',
  apiRoutes(app, ctx) {
    app.get(
      '/healthcheck',
      { config: { public: true }, schema: { tags: ['health'], summary: 'Liveness and readiness', response: { 200: healthSchema, 503: healthSchema } } },
      async (_req, reply) => {
        const [dbOk, redis] = await Promise.all([
          ping(ctx.store.db),
          ctx.redis ? pingRedis(ctx.redis).then((up) => (up ? ('ok' as const) : ('down' as const))) : ('disabled' as const),
        ]);
        const ok = dbOk && redis !== 'down';
        const body = {
          status: ok ? ('healthy' as const) : ('unhealthy' as const),
          memory_usage_mb: Math.round((process.memoryUsage().rss / 1024 / 1024) * 10) / 10,
          cpu_percent: cpuPercent(),
          worker_pid: process.pid,
          database: ctx.store.dialect,
          redis,
        };
        return reply.code(ok ? 200 : 503).send(body);
      },
    );
    app.get(
      '/info',
      { config: { public: true }, schema: { tags: ['health'], summary: 'Platform name and version', response: { 200: infoSchema } } },
      async () => ({ message: 'Codemie', version: ctx.version, description: "Smart AI assistant 'CodeMie'" }),
    );
  },
};
