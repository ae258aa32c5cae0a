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
import { randomUUID } from 'node:crypto';
import { LineCounter, parseDocument, isMap, type Document } from 'yaml';
import type { z } from 'zod';
import { ApiError } from '../api/errors.js';
import { workflowYamlSchema, type WorkflowYaml, type StateConfig } from './config-schema.js';
import { ExpressionError, parseExpression } from './expression.js';
import { schemaShapeProblem } from '../llm/json-schema.js';
import { customNodeOf, SUPPORTED_CUSTOM_NODES, transformConfigProblem } from './transform.js';

export const CONFIG_ERROR_HELP =
  'Fix the yaml_config and save again. See docs/workflows.md for the YAML reference (states, next, condition, switch, iter_key, interrupt_before).';

/** The reference's kinds of validation error (`error_type` of the `error_format=json` details). */
export type ConfigErrorType = 'parsing' | 'workflow_schema' | 'missing_states' | 'schema_validation' | 'cross_reference_validation' | 'resource_validation';

/** One entry of the structured details (the reference's WorkflowValidationErrorDetail; absent fields omitted). */
export interface ConfigProblem {
  id: string;
  message: string;
  path: string;
  details?: string;
  state_id?: string;
  config_line?: number;
}

/** The `error_format=json` details: {error_type, message, errors: [...]}. */
export interface StructuredConfigError {
  error_type: ConfigErrorType;
  message: string;
  errors: ConfigProblem[];
}

const TYPE_MESSAGES: Record<ConfigErrorType, string> = {
  parsing: 'Invalid YAML format',
  workflow_schema: 'Configuration contains validation errors',
  missing_states: 'Workflow must have at least one state',
  schema_validation: 'Configuration contains validation errors',
  cross_reference_validation: 'Configuration contains cross-reference errors',
  resource_validation: 'Workflow configuration contains unavailable resources',
};

/** A problem entry; fields that are null/undefined are left out, as the reference's exclude_none does. */
export function problem(p: { message: string; path?: string; details?: string | null; state_id?: string | null; config_line?: number | null }): ConfigProblem {
  const out: ConfigProblem = { id: randomUUID(), message: p.message, path: p.path ?? '' };
  if (p.details != null) out.details = p.details;
  if (p.state_id != null) out.state_id = p.state_id;
  if (p.config_line != null) out.config_line = p.config_line;
  return out;
}

/** A 400 "Workflow Configuration error" whose details read as text, carrying the structured form for error_format=json. */
export class WorkflowConfigError extends ApiError {
  constructor(
    details: string,
    readonly structured: StructuredConfigError,
  ) {
    super(400, 'Workflow Configuration error', details, CONFIG_ERROR_HELP);
  }
}

export function configError(
  details: string,
  opts: { type?: ConfigErrorType; errors?: ConfigProblem[]; path?: string; state_id?: string | null; line?: number | null; short?: string } = {},
): WorkflowConfigError {
  const type = opts.type ?? 'workflow_schema';
  const errors = opts.errors ?? [
    problem({ message: opts.short ?? details, path: opts.path ?? '', details: opts.short ? details : null, state_id: opts.state_id, config_line: opts.line }),
  ];
  return new WorkflowConfigError(details, { error_type: type, message: TYPE_MESSAGES[type], errors });
}

/** The details of a configuration error in the requested format (`error_format=json` → the structured object). */
export function formatConfigError(err: unknown, format: 'string' | 'json'): unknown {
  if (format === 'json' && err instanceof WorkflowConfigError) return new ApiError(err.status, err.message, err.structured, err.help);
  return err;
}

/**
 * An output_schema as the reference's users write it: a JSON document, possibly inside a fenced
 * block (```json ... ```), as the reference's docs and clients write it. Returns the JSON text.
 */
export function outputSchemaText(src: string): string {
  const t = src.trim();
  const m = /^```[A-Za-z0-9_-]*[ \t]*\r?\n([\s\S]*?)\r?\n?```$/.exec(t);
  return (m ? m[1] : t).trim();
}

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

/** The reference's display path of a field: below a state, the path inside it; else the dotted path. */
function fieldPath(path: Path): string {
  const inItem = path.length >= 2 && typeof path[1] === 'number' && ['states', 'assistants', 'tools', 'custom_nodes'].includes(String(path[0]));
  const rest = inItem ? path.slice(2) : path;
  let out = '';
  for (const p of rest) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out || (inItem ? String(path[0]) : '');
}

function stateIdAt(path: Path, raw: unknown): string | null {
  if (path[0] !== 'states' || typeof path[1] !== 'number') return null;
  const item = (raw as Record<string, unknown[]>)?.states?.[path[1]] as { id?: unknown } | undefined;
  return item && typeof item.id === 'string' ? item.id : null;
}

function zodProblem(issue: z.core.$ZodIssue, loc: Locator, raw: unknown): { text: string; problem: ConfigProblem } {
  const path = issue.path as Path;
  const state_id = stateIdAt(path, raw);
  if (issue.code === 'unrecognized_keys') {
    const keys = (issue as { keys: string[] }).keys;
    const line = loc.line(path, keys[0]);
    return {
      text: `Unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')} in ${describePath(path, raw)}${at(line)}`,
      problem: problem({
        message: 'Validation error',
        path: fieldPath([...path, keys[0]]),
        details: `Additional properties are not allowed (${keys.map((k) => `'${k}'`).join(', ')} ${keys.length > 1 ? 'were' : 'was'} unexpected)`,
        state_id,
        config_line: line,
      }),
    };
  }
  const parent = path.slice(0, -1);
  const last = path[path.length - 1];
  const exists = (() => {
    let v: unknown = raw;
    for (const p of path) v = v == null ? undefined : (v as Record<string | number, unknown>)[p];
    return v !== undefined;
  })();
  if (!exists && typeof last === 'string') {
    const line = loc.line(parent);
    return {
      text: `Missing required key '${last}' in ${describePath(parent, raw)}${at(line)}`,
      problem: problem({ message: 'Missing required field', path: fieldPath(path), details: `Required fields: ${last}`, state_id, config_line: line }),
    };
  }
  const line = loc.line(path);
  const i = issue as { expected?: string; minimum?: unknown; maximum?: unknown; code: string };
  const short =
    issue.code === 'invalid_type'
      ? `Invalid type (expected ${i.expected === 'number' || i.expected === 'int' ? 'number' : i.expected === 'record' || i.expected === 'object' ? 'object' : i.expected})`
      : issue.code === 'too_small' || issue.code === 'too_big'
        ? 'Value out of range'
        : issue.code === 'invalid_value' || issue.code === 'invalid_union'
          ? 'Invalid value'
          : issue.code === 'invalid_format'
            ? 'Invalid format'
            : 'Validation error';
  const details =
    issue.code === 'too_small' && i.minimum !== undefined
      ? `Must be at least ${String(i.minimum)}`
      : issue.code === 'too_big' && i.maximum !== undefined
        ? `Must be at most ${String(i.maximum)}`
        : issue.message;
  return {
    text: `Invalid value at ${describePath(path, raw)}${at(line)}: ${issue.message}`,
    problem: problem({ message: short, path: fieldPath(path), details, state_id, config_line: line }),
  };
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
  if (typeof src !== 'string' || !src.trim()) throw configError('yaml_config is empty: a workflow needs at least one state.', { type: 'missing_states' });
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
      const text = `YAML syntax error${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}: ${e.message.split('\n')[0]}`;
      throw configError(text, { type: 'parsing', errors: [problem({ message: 'YAML parsing failed', details: text, path: '', config_line: pos?.line })] });
    }
    raw = doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (err) {
    if (err instanceof ApiError) throw err;
    // yaml refuses alias bombs ("Excessive alias count ...") with a ReferenceError
    if (err instanceof ReferenceError)
      throw configError(`YAML aliases refused: ${err.message.split('\n')[0]}.`, { type: 'parsing', short: 'YAML parsing failed' });
    if (isStackOverflow(err)) throw configError('yaml_config is nested too deeply to be a workflow configuration.');
    throw err;
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw configError('yaml_config must be a YAML mapping with a `states` list.', { type: 'parsing', short: 'YAML parsing failed' });
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
    throw configError(problems.map((p) => p.text).join('; '), { type: 'schema_validation', errors: problems.map((p) => p.problem) });
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

/** The combinations of `next` keys the reference's schema refuses (`not: required: [a, b]`), in its order. */
const EXCLUSIVE_NEXT: Array<[string, string]> = [
  ['condition', 'switch'],
  ['state_id', 'state_ids'],
  ['state_ids', 'iter_key'],
  ['state_ids', 'condition'],
  ['state_ids', 'switch'],
  ['iter_key', 'condition'],
  ['iter_key', 'switch'],
];

/** Where each target of a state's `next` is written (the path the reference reports). */
function targetPaths(s: StateConfig): Array<[string, string]> {
  const n = s.next;
  const out: Array<[string, string]> = [];
  if (n.state_id) out.push(['next.state_id', n.state_id]);
  n.state_ids?.forEach((t, k) => out.push([`next.state_ids[${k}]`, t]));
  if (n.condition) out.push(['next.condition.then', n.condition.then], ['next.condition.otherwise', n.condition.otherwise]);
  if (n.switch) {
    n.switch.cases.forEach((c, k) => out.push([`next.switch.cases[${k}].state_id`, c.state_id]));
    out.push(['next.switch.default', n.switch.default]);
  }
  return out;
}

function checkGraph(cfg: WorkflowYaml, loc: Locator): void {
  const where = (i: number, key?: string) => `State '${cfg.states[i].id}'${at(loc.line(['states', i], key))}`;
  /** A problem of state i (its line, its id, the field at fault). */
  const fail = (i: number, key: string | undefined, text: string, o: { type?: ConfigErrorType; short?: string; path?: string; details?: string } = {}) =>
    configError(text, {
      type: o.type,
      errors: [
        problem({
          message: o.short ?? text,
          details: o.short ? (o.details ?? text) : null,
          path: o.path ?? key ?? '',
          state_id: cfg.states[i].id,
          config_line: loc.line(['states', i], key),
        }),
      ],
    });
  const dup = (kind: string, list: Array<{ id: string }>, section: string) => {
    const seen = new Set<string>();
    list.forEach((x, i) => {
      if (seen.has(x.id))
        throw configError(`Duplicate ${kind} id '${x.id}'${at(loc.line([section, i]))}`, { path: 'id', line: loc.line([section, i]), short: 'Duplicate id' });
      seen.add(x.id);
    });
  };
  dup('state', cfg.states, 'states');
  dup('assistant', cfg.assistants, 'assistants');
  dup('tool', cfg.tools, 'tools');
  dup('custom node', cfg.custom_nodes, 'custom_nodes');
  cfg.assistants.forEach((a, i) => {
    if (!a.assistant_id && !a.system_prompt) {
      throw configError(
        `In 'assistants[${i}]': at least one of 'assistant_id' or 'system_prompt' must be set (assistant '${a.id}'${at(loc.line(['assistants', i]))})`,
        {
          type: 'schema_validation',
          short: 'Invalid value',
          path: 'assistant_id',
          line: loc.line(['assistants', i]),
        },
      );
    }
  });
  const states = new Map(cfg.states.map((s) => [s.id, s]));
  if (states.has(END)) throw configError(`'${END}' is reserved for the terminal state and cannot be a state id`, { path: 'id', state_id: END });
  const assistants = new Set(cfg.assistants.map((a) => a.id));
  const tools = new Set(cfg.tools.map((t) => t.id));
  const crossRef = { type: 'cross_reference_validation' as const, short: 'Invalid reference' };

  cfg.states.forEach((s, i) => {
    const kinds = [s.assistant_id, s.tool_id, s.custom_node_id].filter(Boolean).length;
    if (kinds !== 1) {
      throw fail(i, undefined, `${where(i)} must have exactly one of assistant_id, tool_id or custom_node_id`, {
        type: 'schema_validation',
        short: 'Invalid value',
        details: 'Must set one of: assistant_id or tool_id or custom_node_id',
      });
    }
    if (s.custom_node_id) {
      const node = customNodeOf(cfg, s);
      if (!node) {
        throw fail(
          i,
          'custom_node_id',
          `${where(i, 'custom_node_id')} references custom node '${s.custom_node_id}', which is not defined in the custom_nodes section`,
          {
            ...crossRef,
            details: `Custom_node '${s.custom_node_id}' not found`,
          },
        );
      }
      const kind = node.custom_node_id ?? '';
      if (!(SUPPORTED_CUSTOM_NODES as readonly string[]).includes(kind)) {
        throw fail(
          i,
          'custom_node_id',
          `${where(i, 'custom_node_id')}: custom node '${node.id}' is of kind '${kind}', which this platform does not run (supported: ${SUPPORTED_CUSTOM_NODES.join(', ')})`,
          {
            type: 'resource_validation',
            short: 'Unsupported custom node',
          },
        );
      }
      const problemText = transformConfigProblem(node.config);
      if (problemText) throw fail(i, 'custom_node_id', `Custom node '${node.id}': ${problemText}`, { short: 'Invalid value', path: 'config' });
    }
    if (s.assistant_id && !assistants.has(s.assistant_id)) {
      throw fail(i, 'assistant_id', `${where(i, 'assistant_id')} references assistant '${s.assistant_id}', which is not defined in the assistants section`, {
        ...crossRef,
        details: `Assistant '${s.assistant_id}' not found`,
      });
    }
    if (s.tool_id && !tools.has(s.tool_id)) {
      throw fail(i, 'tool_id', `${where(i, 'tool_id')} references tool '${s.tool_id}', which is not defined in the tools section`, {
        ...crossRef,
        details: `Tool '${s.tool_id}' not found`,
      });
    }
    const n = s.next as Record<string, unknown>;
    // The reference's schema rules, with its texts ("In 'states[0].next': 'a' and 'b' cannot be set at the same time").
    for (const [x, y] of EXCLUSIVE_NEXT) {
      if (n[x] !== undefined && n[y] !== undefined) {
        throw fail(i, 'next', `In 'states[${i}].next': '${x}' and '${y}' cannot be set at the same time${at(loc.line(['states', i], 'next'))}`, {
          type: 'schema_validation',
          short: 'Invalid combination',
          details: `Cannot set '${x}' and '${y}' at the same time`,
        });
      }
    }
    if (n.iter_key !== undefined && n.state_id === undefined) {
      throw fail(i, 'next', `In 'states[${i}].next': 'state_id' is a dependency of 'iter_key'${at(loc.line(['states', i], 'next'))}`, {
        type: 'schema_validation',
        short: 'Validation error',
        details: "'state_id' is a dependency of 'iter_key'",
      });
    }
    const next = s.next;
    const modes = [next.state_id, next.state_ids, next.condition, next.switch].filter((x) => x !== undefined).length;
    if (modes !== 1) {
      throw fail(i, 'next', `${where(i, 'next')}: next must have exactly one of state_id, state_ids, condition or switch`, {
        type: 'schema_validation',
        short: 'Invalid value',
        details: 'Must set one of: state_id or state_ids or condition or switch',
      });
    }
    if (next.iter_key !== undefined) {
      if (!ITER_KEY.test(next.iter_key)) {
        throw fail(i, 'next', `${where(i, 'next')}: bad iter_key '${next.iter_key}': use '.', a key name, or a JSON pointer like /data/items`, {
          path: 'next.iter_key',
          short: 'Invalid format',
        });
      }
      if (next.state_id === END)
        throw fail(i, 'next', `${where(i, 'next')}: iter_key cannot iterate into '${END}'`, { path: 'next.iter_key', short: 'Invalid value' });
    }
    const exprs = next.condition ? [next.condition.expression] : next.switch ? next.switch.cases.map((c) => c.condition) : [];
    for (const e of exprs) {
      try {
        parseExpression(e);
      } catch (err) {
        if (err instanceof ExpressionError) {
          throw fail(i, 'next', `${where(i, 'next')}: bad condition expression "${e.length > 120 ? `${e.slice(0, 120)}…` : e}": ${err.message}`, {
            path: next.condition ? 'next.condition.expression' : 'next.switch.cases',
            short: 'Invalid expression',
          });
        }
        throw err;
      }
    }
    for (const [path, t] of targetPaths(s)) {
      if (t !== END && !states.has(t))
        throw fail(i, 'next', `${where(i, 'next')} transitions to undefined state '${t}'`, { ...crossRef, path, details: `State '${t}' not found` });
    }
    if (s.output_schema) {
      let schema: unknown;
      try {
        schema = JSON.parse(outputSchemaText(s.output_schema));
      } catch (err) {
        throw fail(i, 'output_schema', `${where(i, 'output_schema')}: output_schema is not valid JSON: ${(err as Error).message}`, { short: 'Invalid format' });
      }
      if (!schema || typeof schema !== 'object' || Array.isArray(schema)) {
        throw fail(i, 'output_schema', `${where(i, 'output_schema')}: output_schema must be a JSON Schema object`, { short: 'Invalid value' });
      }
      const shape = schemaShapeProblem(schema);
      if (shape) throw fail(i, 'output_schema', `${where(i, 'output_schema')}: output_schema cannot be used: ${shape}`, { short: 'Invalid value' });
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
    if (!reach.has(s.id))
      throw fail(i, undefined, `${where(i)} is unreachable: no transition leads to it from the first state '${cfg.states[0].id}'`, {
        short: 'Unreachable state',
      });
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
    if (!canEnd.has(s.id))
      throw fail(i, undefined, `${where(i)} is in a cycle with no way out: no path from it reaches '${END}'`, { short: 'Cycle with no way out' });
  });
}
