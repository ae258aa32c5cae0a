/**
 * The tracing seam. Domains describe what happens (a trace per assistant call or workflow
 * execution, spans per state, generations per LLM call, tool calls); the implementation
 * exports it to Langfuse and/or any OTLP endpoint. When nothing is configured the no-op
 * tracer is used: no allocation beyond a shared object, no exporter, zero overhead.
 *
 * Never pass propagated header values or secrets in here: inputs/outputs are the model's
 * prompts and answers only (and can be masked by config).
 */
export type ObservationType = 'span' | 'generation' | 'tool' | 'agent' | 'chain';

export interface TraceStart {
  name: string;
  sessionId?: string | null;
  userId?: string | null;
  tags?: string[];
  metadata?: Record<string, unknown>;
  input?: unknown;
}

export interface ObservationStart {
  type?: ObservationType;
  input?: unknown;
  model?: string;
  metadata?: Record<string, unknown>;
}

export interface ObservationUpdate {
  output?: unknown;
  usage?: { input: number; output: number; total?: number };
  costUsd?: number;
  level?: 'DEBUG' | 'DEFAULT' | 'WARNING' | 'ERROR';
  statusMessage?: string;
  metadata?: Record<string, unknown>;
}

export interface Observation {
  child(name: string, start?: ObservationStart): Observation;
  update(update: ObservationUpdate): void;
  end(update?: ObservationUpdate): void;
  /** OTel trace id (hex), '' for the no-op tracer. */
  readonly traceId: string;
}

export interface Tracer {
  readonly enabled: boolean;
  startTrace(start: TraceStart): Observation;
  /** Exports what is buffered (tests, shutdown). Bounded by the exporter timeout. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

const noopObservation: Observation = {
  child: () => noopObservation,
  update: () => undefined,
  end: () => undefined,
  traceId: '',
};

export const noopTracer: Tracer = {
  enabled: false,
  startTrace: () => noopObservation,
  flush: async () => undefined,
  shutdown: async () => undefined,
};
