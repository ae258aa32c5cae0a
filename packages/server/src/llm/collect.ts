/** For callers that do not stream: run an agent to its end and get the final event. */
import type { AgentEvent } from './types.js';
import { LlmError } from './types.js';

export type AgentEnd = Extract<AgentEvent, { type: 'finish' | 'error' }>;

/** Consumes the events (each also handed to onEvent) and returns the closing `finish` or `error`. */
export async function runToEnd(events: AsyncIterable<AgentEvent>, onEvent?: (e: AgentEvent) => void | Promise<void>): Promise<AgentEnd> {
  let end: AgentEnd | undefined;
  for await (const e of events) {
    await onEvent?.(e);
    if (e.type === 'finish' || e.type === 'error') end = e;
  }
  return (
    end ?? {
      type: 'error',
      error: new LlmError('llm_bad_response', 'The LLM call ended without a result', 502),
      usage: { input_tokens: 0, output_tokens: 0, cached_tokens: 0, money_spent: 0 },
      text: '',
    }
  );
}
