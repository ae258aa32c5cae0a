/**
 * The platform's infrastructure: configuration, the store, logging and the side-effect services
 * every domain may build on (run queue, event bus, tracer, audit log, metrics, LLM, MCP, fair use).
 * Built once per process by createInfra (platform.ts); domain modules receive it in their factory
 * and hand their services what each needs, as typed constructor arguments.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from './config/config.js';
import type { Store } from './store/db.js';
import type { SettingsRepo } from './store/settings.js';
import type { RunQueue } from './runs/queue.js';
import type { EventBus } from './events/bus.js';
import type { Metrics } from './metrics/metrics.js';
import type { Tracer } from './trace/tracer.js';
import type { AuditLog } from './audit/audit.js';
import type { LlmService } from './llm/types.js';
import type { McpService } from './mcp/service.js';
import type { FairUse } from './limits/fair-use.js';
import type { UsageRecorder } from './analytics/recorder.js';

export interface Infra {
  config: Config;
  store: Store;
  log: FastifyBaseLogger;
  version: string;
  /** Small key/value settings of the installation (seeding markers, ...). */
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
  /**
   * Usage accounting (analytics/recorder.ts): `usage.record(rows, trx?)` writes one row per unit of
   * work (assistant call, workflow state, tool call, webhook), idempotent by key; `usage.checkBudget`
   * refuses a call over a hard budget limit.
   */
  usage: UsageRecorder;
  /** Short-command Redis connection (fair use, health check) when REDIS_URL is set. */
  redis?: Redis;
  /** Things to run, in reverse order, when the process shuts down. */
  onClose: Array<() => Promise<void> | void>;
}
