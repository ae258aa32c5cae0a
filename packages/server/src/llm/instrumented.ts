/**
 * Wraps an LlmService so every agent call is measured (Prometheus) and traced (a generation
 * observation, with tool-call children) under the caller's trace. Callers pass their current
 * observation as `req.trace.observation`; without one, only metrics are recorded.
 * Only prompts/answers/tool I/O reach the tracer, never headers or keys.
 */
import type { Metrics } from '../metrics/metrics.js';
import type { Observation } from '../trace/tracer.js';
import type { AgentEvent, AgentRequest, LlmService } from './types.js';

export function traceObservation(req: AgentRequest): Observation | undefined {
  return req.trace?.observation as Observation | undefined;
}

export function instrumentLlm<T extends LlmService>(inner: T, metrics: Metrics): T {
  const runAgent = async function* (req: AgentRequest): AsyncIterable<AgentEvent> {
    const started = performance.now();
    const parent = traceObservation(req);
    const model = req.model;
    const generation = parent?.child(`llm: ${model}`, {
      type: 'generation',
      model,
      input: [...(req.system ? [{ role: 'system', content: req.system }] : []), ...req.messages],
    });
    const tools = new Map<string, Observation>();
    try {
      for await (const ev of inner.runAgent(req)) {
        if (generation) {
          if (ev.type === 'tool-call') tools.set(ev.toolCallId, generation.child(`tool: ${ev.toolName}`, { type: 'tool', input: ev.input }));
          else if (ev.type === 'tool-result') {
            tools.get(ev.toolCallId)?.end({ output: ev.output, ...(ev.isError ? { level: 'ERROR' as const, statusMessage: 'tool error' } : {}) });
            tools.delete(ev.toolCallId);
          }
        }
        if (ev.type === 'finish' || ev.type === 'error') {
          const seconds = (performance.now() - started) / 1000;
          const outcome = ev.type === 'finish' ? 'ok' : ev.error.code === 'llm_aborted' ? 'aborted' : 'error';
          metrics.recordLlmCall(model, outcome, seconds, ev.usage);
          generation?.end({
            output: ev.type === 'finish' ? (ev.object ?? ev.text) : ev.text,
            usage: { input: ev.usage.input_tokens, output: ev.usage.output_tokens },
            costUsd: ev.usage.money_spent,
            ...(ev.type === 'error' ? { level: 'ERROR' as const, statusMessage: `${ev.error.code}: ${ev.error.message}` } : {}),
          });
        }
        yield ev;
      }
    } finally {
      for (const t of tools.values()) t.end({ level: 'WARNING', statusMessage: 'not finished' });
    }
  };
  return Object.assign(Object.create(Object.getPrototypeOf(inner)), inner, { runAgent }) as T;
}
