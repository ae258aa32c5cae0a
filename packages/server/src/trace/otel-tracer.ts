/**
 * Tracer on OpenTelemetry with Langfuse's span processor (LANGFUSE_* keys) and/or a plain
 * OTLP exporter (OTEL_EXPORTER_OTLP_ENDPOINT). Uses its own TracerProvider (never the global
 * one) so nothing else in the process is instrumented by surprise. Export is batched and
 * bounded (queue size, timeout): a slow or unreachable backend drops spans, never delays requests.
 */
import { ROOT_CONTEXT, SpanStatusCode, trace as otelTrace, type Attributes, type Span } from '@opentelemetry/api';
import { BatchSpanProcessor, NodeTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { LangfuseSpanProcessor } from '@langfuse/otel';
import { createObservationAttributes } from '@langfuse/tracing';
import type { Observation, ObservationStart, ObservationUpdate, TraceStart, Tracer } from './tracer.js';

export interface OtelTracerOptions {
  langfuse?: { publicKey: string; secretKey: string; baseUrl: string; environment?: string };
  otlpEndpoint?: string;
  /** Replace prompts and outputs with a placeholder before export. */
  maskContent?: boolean;
  release?: string;
  /** Export timeout per batch in ms. */
  timeoutMs?: number;
}

const MASKED = '[masked]';

function traceAttributes(start: TraceStart): Attributes {
  const attrs: Attributes = { 'langfuse.trace.name': start.name };
  if (start.sessionId) attrs['session.id'] = start.sessionId;
  if (start.userId) attrs['user.id'] = start.userId;
  if (start.tags?.length) attrs['langfuse.trace.tags'] = start.tags;
  for (const [k, v] of Object.entries(start.metadata ?? {})) {
    if (v !== undefined && v !== null) attrs[`langfuse.trace.metadata.${k}`] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return attrs;
}

class OtelObservation implements Observation {
  constructor(
    private readonly tracer: OtelTracer,
    private readonly span: Span,
    /** Trace-level attributes, repeated on every span so any span identifies the trace's session/user/tags. */
    private readonly traceAttrs: Attributes,
  ) {}

  get traceId(): string {
    return this.span.spanContext().traceId;
  }

  child(name: string, start: ObservationStart = {}): Observation {
    const ctx = otelTrace.setSpan(ROOT_CONTEXT, this.span);
    const span = this.tracer.otel.startSpan(
      name,
      {
        attributes: {
          ...this.traceAttrs,
          ...createObservationAttributes(start.type ?? 'span', {
            input: this.tracer.mask(start.input),
            model: start.model,
            metadata: start.metadata,
          }),
        },
      },
      ctx,
    );
    return new OtelObservation(this.tracer, span, this.traceAttrs);
  }

  update(u: ObservationUpdate): void {
    const attrs = createObservationAttributes('span', {
      output: this.tracer.mask(u.output),
      level: u.level,
      statusMessage: u.statusMessage,
      metadata: u.metadata,
      usageDetails: u.usage ? { input: u.usage.input, output: u.usage.output, total: u.usage.total ?? u.usage.input + u.usage.output } : undefined,
      costDetails: u.costUsd !== undefined ? { total: u.costUsd } : undefined,
    });
    delete attrs['langfuse.observation.type']; // keep the type given at start
    this.span.setAttributes(attrs);
    if (u.level === 'ERROR') this.span.setStatus({ code: SpanStatusCode.ERROR, message: u.statusMessage });
  }

  end(u?: ObservationUpdate): void {
    if (u) this.update(u);
    this.span.end();
  }
}

export class OtelTracer implements Tracer {
  readonly enabled = true;
  private readonly provider: NodeTracerProvider;
  readonly otel;

  constructor(private readonly opts: OtelTracerOptions) {
    const processors: SpanProcessor[] = [];
    const timeoutMillis = opts.timeoutMs ?? 5000;
    if (opts.langfuse) {
      processors.push(
        new LangfuseSpanProcessor({
          ...opts.langfuse,
          release: opts.release,
          timeout: Math.ceil(timeoutMillis / 1000),
          // Every span of this provider is ours and meant for Langfuse.
          shouldExportSpan: () => true,
          mediaUploadEnabled: false,
        }),
      );
    }
    if (opts.otlpEndpoint) {
      const url = opts.otlpEndpoint.replace(/\/$/, '');
      processors.push(
        new BatchSpanProcessor(new OTLPTraceExporter({ url: url.endsWith('/v1/traces') ? url : `${url}/v1/traces`, timeoutMillis }), {
          maxQueueSize: 4096,
          exportTimeoutMillis: timeoutMillis,
        }),
      );
    }
    this.provider = new NodeTracerProvider({ spanProcessors: processors });
    this.otel = this.provider.getTracer('codemie', opts.release);
  }

  mask(value: unknown): unknown {
    if (value === undefined || !this.opts.maskContent) return value;
    return MASKED;
  }

  startTrace(start: TraceStart): Observation {
    const traceAttrs = traceAttributes(start);
    const span = this.otel.startSpan(
      start.name,
      { attributes: { ...traceAttrs, ...createObservationAttributes('span', { input: this.mask(start.input) }) } },
      ROOT_CONTEXT,
    );
    if (start.input !== undefined) span.setAttribute('langfuse.trace.input', JSON.stringify(this.mask(start.input)));
    return new OtelObservation(this, span, traceAttrs);
  }

  async flush(): Promise<void> {
    await this.provider.forceFlush().catch(() => undefined);
  }

  async shutdown(): Promise<void> {
    await this.provider.shutdown().catch(() => undefined);
  }
}
