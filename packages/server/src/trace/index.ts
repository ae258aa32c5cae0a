import type { Config } from '../config/config.js';
import { noopTracer, type Tracer } from './tracer.js';

/** Builds the tracer the configuration asks for; the no-op tracer when tracing is off. */
export async function createTracer(config: Config, release: string): Promise<Tracer> {
  const langfuse =
    config.langfusePublicKey && config.langfuseSecretKey
      ? { publicKey: config.langfusePublicKey, secretKey: config.langfuseSecretKey, baseUrl: config.langfuseHost, environment: config.langfuseEnvironment }
      : undefined;
  if (!langfuse && !config.otlpEndpoint) return noopTracer;
  // Loaded lazily: OpenTelemetry stays out of the process when tracing is off.
  const { OtelTracer } = await import('./otel-tracer.js');
  return new OtelTracer({ langfuse, otlpEndpoint: config.otlpEndpoint, maskContent: config.traceMaskContent, release });
}

export type { Tracer, Observation } from './tracer.js';
