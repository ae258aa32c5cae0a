/**
 * Parses and validates a workflow's `yaml_config` at save time. Every problem becomes a 400
 * "Workflow Configuration error" whose details name the line and/or state at fault: YAML
 * syntax, unknown keys, missing `next`, undefined targets, unreachable states, cycles with no
 * way out, bad `iter_key`, bad condition expressions, bad `output_schema`; and hostile documents:
 * larger than `limits.maxBytes`, more states than `limits.maxStates`, alias bombs, nesting too
 * deep for the parsers. The work is linear in the document's size (the graph checks included),
 * and the service runs it on a worker thread (config-parser.ts), so no document holds up the
 * event loop.
 */
import { LineCounter, parseDocument, isMap, type Document } from 'yaml';
import type { z } from 'zod';
import { ApiError } from '../api/errors.js';
import { workflowYamlSchema, type WorkflowYaml, type StateConfig } from './config-schema.js';
import { ExpressionError, parseExpression } from './expression.js';
import { schemaShapeProblem } from '../llm/json-schema.js';

export const CONFIG_ERROR_HELP =
  'Fix the yaml_config and save again. See docs/workflows.md for the YAML reference (states, next, condition, switch, iter_key, interrupt_before).';

export const configError = (details: string) => new ApiError(400, 'Workflow Configuration error', details, CONFIG_ERROR_HELP);

export const END = 'end';

type Path = Array<string | number>;

class Locator {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  line(path: Path, key?: string): number | null {
    let node: unknown = path.length ? this.doc.getIn(path, true) : this.doc.contents;
    if (key !== undefined && isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      node = pair?.key ?? node;
    }
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (!range) return path.length ? this.line(path.slice(0, -1)) : null;
    return this.lines.linePos(range[0]).line;
  }
}

function describePath(path: Path, raw: unknown): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  // Name the state/assistant/tool by its id where we can.
  if (path.length >= 2 && typeof path[1] === 'number' && ['states', 'assistants', 'tools'].includes(String(path[0]))) {
    const item = (raw as Record<string, unknown[]>)?.[path[0] as string]?.[path[1]] as { id?: unknown } | undefined;
    if (item && typeof item.id === 'string') {
      const kind = path[0] === 'states' ? 'state' : path[0] === 'assistants' ? 'assistant' : 'tool';
      return `${kind} '${item.id}' (${out})`;
    }
  }
  return out || 'the top level';
}

function at(line: number | null): string {
  return line ? ` (line ${line})` : '';
}

function zodProblem(issue: z.core.$ZodIssue, loc: Locator, raw: unknown): string {
  const path = issue.path as Path;
  if (issue.code === 'unrecognized_keys') {
    const keys = (issue as { keys: string[] }).keys;
    return `Unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')} in ${describePath(path, raw)}${at(loc.line(path, keys[0]))}`;
  }
  const parent = path.slice(0, -1);
  const last = path[path.length - 1];
  const exists = (() => {
    let v: unknown = raw;
    for (const p of path) v = v == null ? undefined : (v as Record<string | number, unknown>)[p];
    return v !== undefined;
  })();
  if (!exists && typeof last === 'string') {
    return `Missing required key '${last}' in ${describePath(parent, raw)}${at(loc.line(parent))}`;
  }
  return `Invalid value at ${describePath(path, raw)}${at(loc.line(path))}: ${issue.message}`;
}

/** Bounds of what a document may be (config: CODEMIE_WORKFLOW_MAX_BYTES / _MAX_STATES); none when absent. */
export interface WorkflowLimits {
  maxBytes?: number;
  maxStates?: number;
}

/** The same many-items bound applies to the assistants, tools and custom_nodes lists. */
const LISTS = ['states', 'assistants', 'tools', 'custom_nodes'] as const;

/** A parser's recursion ran out of stack (a document nested thousands of levels deep). */
function isStackOverflow(err: unknown): boolean {
  return err instanceof RangeError && /call stack/i.test(err.message);
}

/** Parses `yaml_config`; throws configError naming the problem. */
export function parseWorkflowYaml(src: string, limits: WorkflowLimits = {}): WorkflowYaml {
  if (typeof src !== 'string' || !src.trim()) throw configError('yaml_config is empty: a workflow needs at least one state.');
  if (limits.maxBytes !== undefined) {
    const bytes = Buffer.byteLength(src, 'utf8');
    if (bytes > limits.maxBytes) {
      throw configError(`yaml_config is ${bytes} bytes; the largest accepted is ${limits.maxBytes} bytes (CODEMIE_WORKFLOW_MAX_BYTES).`);
    }
  }
  const lines = new LineCounter();
  let doc: Document;
  let raw: unknown;
  try {
    doc = parseDocument(src, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length) {
      const e = doc.errors[0];
      // the YAML parser reports its own stack overflow as a syntax error: say what it means
      if (/call stack/i.test(e.message)) throw configError('yaml_config is nested too deeply to be a workflow configuration.');
      const pos = e.linePos?.[0] ?? (e.pos ? lines.linePos(e.pos[0]) : undefined);
      throw configError(`YAML syntax error${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}: ${e.message.split('\n')[0]}`);
    }
    raw = doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (err) {
    if (err instanceof ApiError) throw err;
    // yaml refuses alias bombs ("Excessive alias count ...") with a ReferenceError
    if (err instanceof ReferenceError) throw configError(`YAML aliases refused: ${err.message.split('\n')[0]}.`);
    if (isStackOverflow(err)) throw configError('yaml_config is nested too deeply to be a workflow configuration.');
    throw err;
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw configError('yaml_config must be a YAML mapping with a `states` list.');
  if (limits.maxStates !== undefined) {
    for (const list of LISTS) {
      const n = (raw as Record<string, unknown>)[list];
      if (Array.isArray(n) && n.length > limits.maxStates) {
        throw configError(`yaml_config has ${n.length} ${list}; at most ${limits.maxStates} are accepted (CODEMIE_WORKFLOW_MAX_STATES).`);
      }
    }
  }
  const loc = new Locator(doc, lines);
  let parsed: ReturnType<typeof workflowYamlSchema.safeParse>;
  try {
    parsed = workflowYamlSchema.safeParse(raw);
  } catch (err) {
    if (isStackOverflow(err)) throw configError('yaml_config is nested too deeply to be a workflow configuration.');
    throw err;
  }
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 5).map((i) => zodProblem(i, loc, raw));
    throw configError(problems.join('; '));
  }
  checkGraph(parsed.data, loc);
  return parsed.data;
}

const ITER_KEY = /^(\.|\/.*|[A-Za-z_][A-Za-z0-9_-]*)$/;

/** Targets a state's `next` may lead to (besides `end`). */
export function nextTargets(s: StateConfig): string[] {
  const n = s.next;
  if (n.state_id) return [n.state_id];
  if (n.state_ids) return n.state_ids;
  if (n.condition) return [n.condition.then, n.condition.otherwise];
  if (n.switch) return [...n.switch.cases.map((c) => c.state_id), n.switch.default];
  return [];
}

function checkGraph(cfg: WorkflowYaml, loc: Locator): void {
  const where = (i: number, key?: string) => `State '${cfg.states[i].id}'${at(loc.line(['states', i], key))}`;
  const dup = (kind: string, list: Array<{ id: string }>, section: string) => {
    const seen = new Set<string>();
    list.forEach((x, i) => {
      if (seen.has(x.id)) throw configError(`Duplicate ${kind} id '${x.id}'${at(loc.line([section, i]))}`);
      seen.add(x.id);
    });
  };
  dup('state', cfg.states, 'states');
  dup('assistant', cfg.assistants, 'assistants');
  dup('tool', cfg.tools, 'tools');
  cfg.assistants.forEach((a, i) => {
    if (!a.assistant_id && !a.system_prompt) {
      throw configError(`Assistant '${a.id}'${at(loc.line(['assistants', i]))} needs either assistant_id (an existing assistant) or an inline system_prompt`);
    }
  });
  const states = new Map(cfg.states.map((s) => [s.id, s]));
  if (states.has(END)) throw configError(`'${END}' is reserved for the terminal state and cannot be a state id`);
  const assistants = new Set(cfg.assistants.map((a) => a.id));
  const tools = new Set(cfg.tools.map((t) => t.id));

  cfg.states.forEach((s, i) => {
    const kinds = [s.assistant_id, s.tool_id, s.custom_node_id].filter(Boolean).length;
    if (kinds !== 1) throw configError(`${where(i)} must have exactly one of assistant_id, tool_id or custom_node_id`);
    if (s.custom_node_id) throw configError(`${where(i, 'custom_node_id')}: custom nodes are not supported by this platform (use an assistant or a tool state)`);
    if (s.assistant_id && !assistants.has(s.assistant_id)) {
      throw configError(`${where(i, 'assistant_id')} references assistant '${s.assistant_id}', which is not defined in the assistants section`);
    }
    if (s.tool_id && !tools.has(s.tool_id)) throw configError(`${where(i, 'tool_id')} references tool '${s.tool_id}', which is not defined in the tools section`);
    const n = s.next;
    const modes = [n.state_id, n.state_ids, n.condition, n.switch].filter((x) => x !== undefined).length;
    if (modes !== 1) throw configError(`${where(i, 'next')}: next must have exactly one of state_id, state_ids, condition or switch`);
    if (n.iter_key !== undefined) {
      if (!n.state_id) throw configError(`${where(i, 'next')}: iter_key requires next.state_id (it cannot be combined with state_ids, condition or switch)`);
      if (!ITER_KEY.test(n.iter_key)) {
        throw configError(`${where(i, 'next')}: bad iter_key '${n.iter_key}': use '.', a key name, or a JSON pointer like /data/items`);
      }
      if (n.state_id === END) throw configError(`${where(i, 'next')}: iter_key cannot iterate into '${END}'`);
    }
    const exprs = n.condition ? [n.condition.expression] : n.switch ? n.switch.cases.map((c) => c.condition) : [];
    for (const e of exprs) {
      try {
        parseExpression(e);
      } catch (err) {
        if (err instanceof ExpressionError) throw configError(`${where(i, 'next')}: bad condition expression "${e.length > 120 ? `${e.slice(0, 120)}…` : e}": ${err.message}`);
        throw err;
      }
    }
    for (const t of nextTargets(s)) {
      if (t !== END && !states.has(t)) throw configError(`${where(i, 'next')} transitions to undefined state '${t}'`);
    }
    if (s.output_schema) {
      let schema: unknown;
      try {
        schema = JSON.parse(s.output_schema);
      } catch (err) {
        throw configError(`${where(i, 'output_schema')}: output_schema is not valid JSON: ${(err as Error).message}`);
      }
      if (!schema || typeof schema !== 'object' || Array.isArray(schema)) throw configError(`${where(i, 'output_schema')}: output_schema must be a JSON Schema object`);
      const shape = schemaShapeProblem(schema);
      if (shape) throw configError(`${where(i, 'output_schema')}: output_schema cannot be used: ${shape}`);
    }
  });

  // Reachability from the first state.
  const reach = new Set<string>();
  const queue = [cfg.states[0].id];
  while (queue.length) {
    const id = queue.pop()!;
    if (reach.has(id)) continue;
    reach.add(id);
    for (const t of nextTargets(states.get(id)!)) if (t !== END && !reach.has(t)) queue.push(t);
  }
  cfg.states.forEach((s, i) => {
    if (!reach.has(s.id)) throw configError(`${where(i)} is unreachable: no transition leads to it from the first state '${cfg.states[0].id}'`);
  });
  // Every state must have a way to `end` (else it is a cycle with no way out): a walk back from
  // `end` over the reversed transitions (linear; a fixpoint over all states was quadratic).
  const from = new Map<string, string[]>();
  for (const s of cfg.states) {
    for (const t of nextTargets(s)) {
      const list = from.get(t);
      if (list) list.push(s.id);
      else from.set(t, [s.id]);
    }
  }
  const canEnd = new Set<string>();
  const back = [...(from.get(END) ?? [])];
  while (back.length) {
    const id = back.pop()!;
    if (canEnd.has(id)) continue;
    canEnd.add(id);
    for (const p of from.get(id) ?? []) if (!canEnd.has(p)) back.push(p);
  }
  cfg.states.forEach((s, i) => {
    if (!canEnd.has(s.id)) throw configError(`${where(i)} is in a cycle with no way out: no path from it reaches '${END}'`);
  });
}
