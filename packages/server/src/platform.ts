/**
 * Assembles one platform process: config → infrastructure (store migrated, queue, bus, tracer,
 * LLM, MCP, fair use) → domain modules (modules.ts) → HTTP app. Used by main.ts, the CLI and
 * tests alike, so all three run the same code.
 */
import pino from 'pino';
import type { Config } from './config/config.js';
import type { Infra } from './infra.js';
import type { Module } from './module.js';
import { openStore, type StoreOptions } from './store/db.js';
import { SettingsRepo } from './store/settings.js';
import type { Authenticator } from './api/auth.js';
import { buildApp, type App } from './api/app.js';
import { VERSION } from './version.js';
import { buildModules, type ModuleOverrides, type PlatformServices } from './modules.js';
import { InProcessRunQueue } from './runs/in-process-queue.js';
import { MemoryEventBus } from './events/bus.js';
import type { BullMqRunQueue } from './runs/bullmq-queue.js';
import { Metrics } from './metrics/metrics.js';
import { createTracer } from './trace/index.js';
import { AuditLog } from './audit/audit.js';
import { UsageRecorder } from './analytics/recorder.js';
import { createLlmService } from './llm/service.js';
import { instrumentLlm } from './llm/instrumented.js';
import { createMcpService } from './mcp/service.js';
import { FairUse, fairUseSettings, WINDOW_MS } from './limits/fair-use.js';
import { MemoryLimitBackend } from './limits/memory.js';

export interface Platform {
  app: App;
  /** The infrastructure every module was built on. */
  infra: Infra;
  /** The domain services (other processes' tooling, tests). */
  services: PlatformServices;
  /** Replaces how tokens are read (tests use a test authenticator); stored memberships still apply. */
  useAuthenticator(a: Authenticator): void;
  /** Listens on config.host:config.port; resolves with the bound address. */
  listen(): Promise<string>;
  /** Stops accepting, lets in-flight requests finish, then releases resources. */
  close(): Promise<void>;
}

export interface PlatformOptions {
  logger?: boolean | object;
  store?: Partial<StoreOptions>;
  /** Replacements of services the modules would build (tests, benchmarks). */
  overrides?: (infra: Infra) => ModuleOverrides;
  /** More modules, after the platform's own (test probes). */
  extraModules?: (infra: Infra) => Module[];
}

async function createInfra(config: Config, opts: PlatformOptions): Promise<Infra> {
  const log = pino(opts.logger === false ? { level: 'silent' } : { level: config.logLevel, ...(typeof opts.logger === 'object' ? opts.logger : {}) });
  // LLM layer: models file validated before anything else is opened (a bad file stops start-up).
  const llm = createLlmService(config, log);
  const store = await openStore({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    checkpointThread: config.sqliteCheckpointThread,
    onIdleError: (err) => log.warn({ err: err.message }, 'database connection lost; it will be replaced'),
    onWarning: (message) => log.warn(message),
    ...opts.store,
  });
  // Scale-out pieces (BullMQ, ioredis) are loaded only when REDIS_URL asks for them.
  const scaleOut = config.redisUrl
    ? await Promise.all([import('./runs/bullmq-queue.js'), import('./events/redis-bus.js'), import('./store/redis.js'), import('./limits/redis.js')])
    : undefined;
  const bull: BullMqRunQueue | undefined = scaleOut
    ? new scaleOut[0].BullMqRunQueue(
        {
          redisUrl: config.redisUrl!,
          concurrency: config.workerConcurrency,
          consume: config.role !== 'api',
          prefix: config.redisPrefix,
          lockDurationMs: config.runLeaseMs,
        },
        log,
      )
    : undefined;
  const queue = bull ?? new InProcessRunQueue(config.workerConcurrency, log);
  const metrics = new Metrics(() => queue.stats(), bull ? () => bull.depth() : undefined);
  const redis = scaleOut ? scaleOut[2].openRedisCommands(config.redisUrl!, log) : undefined;
  const fairUse = new FairUse(
    redis && scaleOut ? new scaleOut[3].RedisLimitBackend(redis, config.redisPrefix, WINDOW_MS) : new MemoryLimitBackend(WINDOW_MS),
    fairUseSettings(config),
    log,
    metrics,
  );
  const mcp = createMcpService({ config, log, metrics, db: store.db });
  return {
    config,
    store,
    log,
    version: VERSION,
    settings: new SettingsRepo(store.db),
    // Run slots are refreshed while runs execute here and freed when they end (limits/fair-use.ts).
    runs: fairUse.trackRuns(queue),
    metrics,
    fairUse,
    redis,
    events: scaleOut
      ? new scaleOut[1].RedisEventBus(config.redisUrl!, {
          prefix: config.redisPrefix,
          onError: (err) => log.warn({ err: err.message }, 'redis (events) connection error'),
        })
      : new MemoryEventBus(),
    tracer: await createTracer(config, VERSION),
    audit: new AuditLog(store.db, log),
    usage: new UsageRecorder(store.db, store.dialect),
    llm: instrumentLlm(llm, metrics),
    mcp,
    // Pooled MCP connections (and their stdio processes) close at shutdown.
    onClose: [() => mcp.close()],
  };
}

export async function createPlatform(config: Config, opts: PlatformOptions = {}): Promise<Platform> {
  const infra = await createInfra(config, opts);
  const { modules: own, services } = buildModules(infra, opts.overrides?.(infra));
  const modules = [...own, ...(opts.extraModules?.(infra) ?? [])];
  try {
    for (const mod of modules) await mod.init?.();
  } catch (err) {
    await infra.redis?.quit().catch(() => undefined);
    await infra.store.close();
    throw err;
  }
  let authenticator: Authenticator = services.identity.authenticator;
  const app = await buildApp(infra, modules, { logger: opts.logger === false ? false : infra.log, authenticator: () => authenticator });
  // Handlers were registered by the modules' init; runs may start (recovery re-enqueues in `started`).
  if (config.role !== 'api') await infra.runs.start();
  let closed = false;
  return {
    app,
    infra,
    services,
    useAuthenticator(a) {
      authenticator = services.identity.withMemberships(a);
    },
    async listen() {
      const address = await app.listen({ port: config.port, host: config.host });
      for (const mod of modules) await mod.started?.();
      return address;
    },
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await infra.runs.stop(config.shutdownTimeoutMs / 2);
      await infra.events.close();
      await infra.tracer.shutdown();
      await infra.audit.flush();
      for (const fn of [...infra.onClose].reverse()) {
        try {
          await fn();
        } catch (err) {
          infra.log.warn({ err }, 'error during shutdown');
        }
      }
      infra.fairUse.close();
      await infra.redis?.quit().catch(() => undefined);
      await infra.store.close();
    },
  };
}
