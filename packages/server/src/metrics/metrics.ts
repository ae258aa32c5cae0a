/**
 * Prometheus instruments for the whole platform, in one registry per process. Domains record
 * through these typed helpers; nothing else touches prom-client. Labels are bounded: routes
 * are recorded by pattern (`/v1/assistants/:id/model`), never by concrete URL.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { cacheStats } from './caches.js';

export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'codemie_http_requests_total',
    help: 'HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'codemie_http_request_duration_seconds',
    help: 'HTTP request latency by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly llmCalls = new Counter({
    name: 'codemie_llm_calls_total',
    help: 'LLM calls by model and outcome',
    labelNames: ['model', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly llmTokens = new Counter({
    name: 'codemie_llm_tokens_total',
    help: 'LLM tokens by model and direction (input/output)',
    labelNames: ['model', 'direction'] as const,
    registers: [this.registry],
  });

  readonly llmCost = new Counter({
    name: 'codemie_llm_cost_usd_total',
    help: 'LLM cost in USD by model (from configured prices)',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  readonly llmLatency = new Histogram({
    name: 'codemie_llm_call_duration_seconds',
    help: 'LLM call latency by model',
    labelNames: ['model'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });

  readonly mcpToolCalls = new Counter({
    name: 'codemie_mcp_tool_calls_total',
    help: 'MCP tool calls by server and outcome',
    labelNames: ['server', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly toolkitToolCalls = new Counter({
    name: 'codemie_toolkit_tool_calls_total',
    help: 'Built-in toolkit tool calls by tool and outcome (ok, tool_error, timeout, cancelled)',
    labelNames: ['tool', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly runs = new Counter({
    name: 'codemie_runs_total',
    help: 'Finished runs (workflow executions, background tasks) by kind and final status',
    labelNames: ['kind', 'status'] as const,
    registers: [this.registry],
  });

  readonly fairUseRejections = new Counter({
    name: 'codemie_fair_use_rejections_total',
    help: 'Requests refused (429) by a fair-use limit, by scope (user/project) and limit (rate/concurrency)',
    labelNames: ['scope', 'limit'] as const,
    registers: [this.registry],
  });

  /**
   * `queueDepth`, when given, is the deployment-wide number of waiting runs (the shared Redis queue);
   * otherwise the depth is this process's own queue.
   */
  constructor(queueStats: () => { queued: number; running: number }, queueDepth?: () => Promise<number>) {
    collectDefaultMetrics({ register: this.registry, prefix: 'codemie_process_' });
    new Gauge({
      name: 'codemie_run_queue_depth',
      help: queueDepth ? 'Runs waiting in the shared run queue (whole deployment)' : 'Runs waiting in this process queue',
      registers: [this.registry],
      async collect() {
        if (!queueDepth) return void this.set(queueStats().queued);
        // A slow or unreachable Redis must not hang /metrics: keep the last value.
        let timer: NodeJS.Timeout | undefined;
        try {
          this.set(await Promise.race([queueDepth(), new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), 1000)))]));
        } catch {
          /* keep the previous value */
        } finally {
          clearTimeout(timer);
        }
      },
    });
    new Gauge({
      name: 'codemie_cache_entries',
      help: 'Entries held by each in-process cache',
      labelNames: ['cache'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [cache, s] of cacheStats()) this.set({ cache }, s.entries);
      },
    });
    new Gauge({
      name: 'codemie_cache_max_entries',
      help: 'The bound of each in-process cache (least recently stored entries go first beyond it)',
      labelNames: ['cache'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [cache, s] of cacheStats()) this.set({ cache }, s.max);
      },
    });
    new Gauge({
      name: 'codemie_runs_active',
      help: 'Runs executing in this process',
      registers: [this.registry],
      collect() {
        this.set(queueStats().running);
      },
    });
  }

  recordLlmCall(
    model: string,
    outcome: 'ok' | 'error' | 'aborted',
    seconds: number,
    usage?: { input_tokens: number; output_tokens: number; money_spent: number },
  ): void {
    this.llmCalls.inc({ model, outcome });
    this.llmLatency.observe({ model }, seconds);
    if (usage) {
      this.llmTokens.inc({ model, direction: 'input' }, usage.input_tokens);
      this.llmTokens.inc({ model, direction: 'output' }, usage.output_tokens);
      if (usage.money_spent > 0) this.llmCost.inc({ model }, usage.money_spent);
    }
  }
}
