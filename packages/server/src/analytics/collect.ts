/**
 * Tool calls of a run, as usage rows: read from the run's events (a tool or agent thought that
 * ends), so every caller of the turn runner records its tool calls the same way.
 */
import type { RunEvent } from '../turn/events.js';
import type { UsageInput } from './recorder.js';

export interface ToolCallUse {
  thoughtId: string;
  toolName: string;
  toolType: string;
  mcpServer: string | null;
  error: boolean;
  latencyMs: number;
  errorText: string | null;
}

export class ToolCallCollector {
  private readonly started = new Map<string, number>();
  readonly calls: ToolCallUse[] = [];

  add(ev: RunEvent): void {
    if (ev.type === 'thought-start') {
      if (ev.thought.kind === 'tool' || ev.thought.kind === 'agent') this.started.set(ev.thought.id, performance.now());
      return;
    }
    if (ev.type !== 'thought-end') return;
    const t = ev.thought;
    const meta = t.metadata ?? {};
    const toolName = typeof meta.tool_name === 'string' ? meta.tool_name : null;
    if (!toolName || (t.kind !== 'tool' && t.kind !== 'agent')) return;
    const at = this.started.get(t.id);
    const mcpServer = typeof meta.mcp_server === 'string' ? meta.mcp_server : null;
    this.calls.push({
      thoughtId: t.id,
      toolName,
      toolType: mcpServer ? 'mcp' : t.kind === 'agent' ? 'agent' : 'tool',
      mcpServer,
      error: ev.error,
      latencyMs: at === undefined ? 0 : performance.now() - at,
      errorText: ev.error ? ev.output.slice(0, 200) : null,
    });
  }

  /** The calls as usage rows under `key` (one per thought), with the context of the run. */
  rows(key: string, base: Omit<UsageInput, 'key' | 'kind' | 'status'>): UsageInput[] {
    return this.calls.map((c) => ({
      ...base,
      key: `tool:${key}:${c.thoughtId}`,
      kind: 'tool' as const,
      usage: undefined,
      toolName: c.toolName,
      toolType: c.toolType,
      mcpServer: c.mcpServer,
      latencyMs: c.latencyMs,
      status: c.error ? ('error' as const) : ('success' as const),
      errorClass: c.error ? errorClassOf(c.errorText) : null,
    }));
  }
}

/** A short class for an error text: its first word-ish token (e.g. `TimeoutError`), else `ToolError`. */
function errorClassOf(text: string | null): string {
  const m = text ? /([A-Z][A-Za-z]+(?:Error|Exception))/.exec(text) : null;
  return m?.[1] ?? 'ToolError';
}
