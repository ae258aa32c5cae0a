/** Shared pieces of the scale-out suites: the two-state workflow they run and small polling helpers. */
import type { RecordedRequest } from './llm-server.js';

export const TWO_STATE_YAML = `assistants:
  - id: worker
    model: test-model
    system_prompt: You do the work.
states:
  - id: first
    assistant_id: worker
    task: "First: {{user_input}}"
    next:
      state_id: second
  - id: second
    assistant_id: worker
    task: "Second: {{user_input}}"
    next:
      state_id: end
`;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Text of the last user message the LLM server received. */
export function lastUserText(req: RecordedRequest): string {
  const m = [...req.messages].reverse().find((x) => x.role === 'user');
  const c = m?.content;
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((p) => (p && typeof p === 'object' && 'text' in p ? String(p.text) : '')).join(' ');
  return '';
}

/** Polls until fn returns a truthy value; throws naming `what` after timeoutMs. */
export async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs: number, stepMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}
