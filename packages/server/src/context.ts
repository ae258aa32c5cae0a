/**
 * What every domain module receives: configuration, the store, a logger and the
 * swappable side-effect seams. Domains add their services here as they are built.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Config } from './config/config.js';
import type { Store } from './store/db.js';
import type { Authenticator } from './api/auth.js';
import { SettingsRepo } from './store/settings.js';
import type { RunQueue } from './runs/queue.js';
import type { EventBus } from './events/bus.js';
import type { Metrics } from './metrics/metrics.js';
import type { Tracer } from './trace/tracer.js';
import type { AuditLog } from './audit/audit.js';
import type { LlmService } from './llm/types.js';
import type { McpService } from './mcp/service.js';
import type { FairUse } from './limits/fair-use.js';
import type { Redis } from 'ioredis';

export interface AppContext {
  config: Config;
  store: Store;
  log: FastifyBaseLogger;
  version: string;
  settings: SettingsRepo;
  /** Where workflow executions and background tasks run (in-process or BullMQ). */
  runs: RunQueue;
  /** Stream events of runs, followed by streaming HTTP responses. */
  events: EventBus;
  /** Traces to Langfuse / OTLP; a no-op when not configured. */
  tracer: Tracer;
  /** Security audit trail (logins, secret changes, permission denials). */
  audit: AuditLog;
  /** Prometheus instruments (HTTP, LLM, MCP, runs). */
  metrics: Metrics;
  /** LLM models and the agent loop (llm/). */
  llm: LlmService;
  /** MCP client layer: openToolset(servers, {propagatedHeaders, user}) (mcp/). */
  mcp: McpService;
  /** Fair-use limits (request rate, concurrent runs); see limits/fair-use.ts. */
  fairUse: FairUse;
  /** Short-command Redis connection (fair use, health check) when REDIS_URL is set. */
  redis?: Redis;
  /** Replaced by the identity module at start-up. */
  authenticator: Authenticator;
  /** Things to run, in reverse order, when the process shuts down. */
  onClose: Array<() => Promise<void> | void>;
}

/**
 * A domain module: its routes under /v1 (and /code-assistant-api/v1), optional routes at the
 * server root (e.g. /auth/realms/...), and start-up work (bootstrap, recovery).
 */
export interface DomainModule {
  name: string;
  init?(ctx: AppContext): Promise<void> | void;
  apiRoutes?(app: FastifyInstance, ctx: AppContext): Promise<void> | void;
  rootRoutes?(app: FastifyInstance, ctx: AppContext): Promise<void> | void;
  /** Runs after the server listens (background recovery, printed hints). */
  started?(ctx: AppContext): Promise<void> | void;
}
