/**
 * The transform node (`custom_node_id: transform_node`, reference: nodes/transform_node.py):
 * maps data without an LLM call. Its `config` names the input (`input_source`: context_store,
 * messages, user_input, state_schema; `input_key`), a list of `mappings` applied in order (each
 * sees the input and the fields computed before it) of six types — extract, array_map,
 * condition, template, constant, script — an optional `output_schema` the result must satisfy,
 * and `on_error` (fail, skip, default with `default_output`, partial). Conditions and scripts are
 * the safe expression language of expression.ts (no eval); templates are `{{ expression }}`
 * with Jinja-style filters (`| join(', ')`, `| length`, `| upper`, `| lower`, `| default(x)`,
 * `| tojson`, `| trim`, `| first`, `| last`).
 */
import { z } from 'zod';
import { evaluateNode, ExpressionError, parseExpression, truthy } from './expression.js';
import { isPlainObject, tryParseJson } from './template.js';
import type { ChatMessage } from '../llm/types.js';

const mappingSchema = z.object({
  output_field: z.string().min(1),
  type: z.enum(['extract', 'array_map', 'condition', 'template', 'constant', 'script']),
  source_path: z.string().optional(),
  default: z.unknown().optional(),
  condition: z.string().optional(),
  then_value: z.unknown().optional(),
  else_value: z.unknown().optional(),
  template: z.string().optional(),
  value: z.unknown().optional(),
  script: z.string().optional(),
  item_field: z.string().optional(),
  filter_condition: z.string().optional(),
});

export const transformConfigSchema = z.object({
  input_source: z.enum(['context_store', 'messages', 'user_input', 'state_schema', 'combined']).default('context_store'),
  input_key: z.string().nullish(),
  mappings: z.array(mappingSchema).min(1),
  output_schema: z.record(z.string(), z.unknown()).nullish(),
  on_error: z.enum(['fail', 'skip', 'default', 'partial']).default('fail'),
  default_output: z.record(z.string(), z.unknown()).default({}),
});

export type TransformConfig = z.infer<typeof transformConfigSchema>;
type Mapping = z.infer<typeof mappingSchema>;

export const SUPPORTED_CUSTOM_NODES = ['transform_node'] as const;

/**
 * The custom node a state runs: the custom_nodes entry it names, or — as the docs also write it —
 * a built-in kind named directly (`custom_node_id: transform_node`) with the state's own `config`.
 */
export function customNodeOf(
  cfg: { custom_nodes: Array<{ id: string; custom_node_id?: string | null; name?: string | null; config?: Record<string, unknown> }> },
  state: { custom_node_id?: string; config?: Record<string, unknown> },
): { id: string; custom_node_id?: string | null; name?: string | null; config?: Record<string, unknown> } | null {
  const declared = cfg.custom_nodes.find((c) => c.id === state.custom_node_id);
  if (declared) return state.config ? { ...declared, config: { ...(declared.config ?? {}), ...state.config } } : declared;
  if (state.custom_node_id && (SUPPORTED_CUSTOM_NODES as readonly string[]).includes(state.custom_node_id)) {
    return { id: state.custom_node_id, custom_node_id: state.custom_node_id, config: state.config ?? {} };
  }
  return null;
}

const FILTERS = new Set(['join', 'length', 'count', 'upper', 'lower', 'default', 'tojson', 'trim', 'first', 'last', 'string', 'int', 'float']);

type Filter = { name: string; args: string };
type Piece = { kind: 'pipe'; expr: string; filters: Filter[] } | { kind: 'ternary'; then: Piece; cond: string; otherwise: Piece };

/** Splits on a separator outside quotes and brackets. */
function splitTop(src: string, sep: RegExp): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let depth = 0;
  for (let i = 0; i < src.length; i++) {
    const ch = src[i];
    if (quote) {
      if (ch === quote) quote = null;
      cur += ch;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) depth--;
    if (depth === 0 && !quote) {
      const m = sep.exec(src.slice(i));
      if (m && m.index === 0) {
        out.push(cur);
        cur = '';
        i += m[0].length - 1;
        continue;
      }
    }
    cur += ch;
  }
  out.push(cur);
  return out;
}

/** One `{{ ... }}`: `value | filter(args) ...`, or Jinja's `a if condition else b`. */
function parsePiece(inner: string): Piece {
  const ifs = splitTop(inner, /^\s+if\s+/);
  if (ifs.length === 2) {
    const rest = splitTop(ifs[1], /^\s+else\s+/);
    if (rest.length !== 2) throw new ExpressionError(`an inline 'if' needs an 'else': ${inner.trim()}`);
    parseExpression(rest[0]);
    return { kind: 'ternary', then: parsePiece(ifs[0]), cond: rest[0], otherwise: parsePiece(rest[1]) };
  }
  const pieces = splitTop(inner, /^\|/);
  const filters = pieces.slice(1).map((p) => {
    const f = /^\s*([A-Za-z_]+)\s*(?:\(([\s\S]*)\))?\s*$/.exec(p);
    if (!f) throw new ExpressionError(`bad template filter '${p.trim()}'`);
    if (!FILTERS.has(f[1])) throw new ExpressionError(`unknown template filter '${f[1]}' (known: ${[...FILTERS].join(', ')})`);
    if (f[2]?.trim()) parseExpression(`[${f[2]}]`);
    return { name: f[1], args: f[2] ?? '' };
  });
  parseExpression(pieces[0]);
  return { kind: 'pipe', expr: pieces[0], filters };
}

function templateParts(src: string): Array<{ raw: string; piece: Piece }> {
  return [...src.matchAll(/\{\{([\s\S]*?)\}\}/g)].map((m) => ({ raw: m[0], piece: parsePiece(m[1]) }));
}

const show = (v: unknown): string =>
  v === null || v === undefined
    ? ''
    : typeof v === 'string'
      ? v
      : typeof v === 'boolean'
        ? v
          ? 'True'
          : 'False'
        : typeof v === 'number'
          ? String(v)
          : JSON.stringify(v);

function evalPiece(p: Piece, vars: Record<string, unknown>): unknown {
  if (p.kind === 'ternary') return truthy(evaluateNode(parseExpression(p.cond), vars)) ? evalPiece(p.then, vars) : evalPiece(p.otherwise, vars);
  let v: unknown;
  try {
    v = evaluateNode(parseExpression(p.expr), vars);
  } catch (err) {
    // an undefined name renders empty, as Jinja's default Undefined does
    if (err instanceof ExpressionError && /is not defined/.test(err.message)) v = undefined;
    else throw err;
  }
  for (const f of p.filters) {
    const args = f.args.trim() ? (evaluateNode(parseExpression(`[${f.args}]`), vars) as unknown[]) : [];
    switch (f.name) {
      case 'join':
        v = Array.isArray(v) ? v.map(show).join(String(args[0] ?? '')) : show(v);
        break;
      case 'length':
      case 'count':
        v = Array.isArray(v) || typeof v === 'string' ? v.length : isPlainObject(v) ? Object.keys(v).length : 0;
        break;
      case 'upper':
        v = show(v).toUpperCase();
        break;
      case 'lower':
        v = show(v).toLowerCase();
        break;
      case 'trim':
        v = show(v).trim();
        break;
      case 'default':
        if (v === undefined || v === null || (args[1] === true && !truthy(v))) v = args[0];
        break;
      case 'tojson':
        v = JSON.stringify(v ?? null);
        break;
      case 'first':
        v = Array.isArray(v) ? v[0] : typeof v === 'string' ? v[0] : v;
        break;
      case 'last':
        v = Array.isArray(v) ? v[v.length - 1] : typeof v === 'string' ? v[v.length - 1] : v;
        break;
      case 'string':
        v = show(v);
        break;
      case 'int':
        v = Math.trunc(Number(v)) || 0;
        break;
      case 'float':
        v = Number(v) || 0;
        break;
    }
  }
  return v;
}

function renderTemplate(src: string, vars: Record<string, unknown>): string {
  let out = src;
  for (const part of templateParts(src)) {
    const v = evalPiece(part.piece, vars);
    out = out.replace(part.raw, () => show(v));
  }
  return out;
}

/** Dot notation with list indexes (`pull_request.labels.0.name`, `items[0].id`). */
function extractPath(data: unknown, path: string): unknown {
  let v: unknown = data;
  for (const seg of path
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter(Boolean)) {
    if (Array.isArray(v) && /^\d+$/.test(seg)) v = v[Number(seg)];
    else if (isPlainObject(v) && Object.prototype.hasOwnProperty.call(v, seg)) v = v[seg];
    else return undefined;
  }
  return v;
}

const evalExpr = (src: string, vars: Record<string, unknown>) => evaluateNode(parseExpression(src), vars);

function applyMapping(m: Mapping, data: Record<string, unknown>): unknown {
  switch (m.type) {
    case 'extract': {
      if (!m.source_path) throw new Error(`mapping '${m.output_field}': extract needs source_path`);
      const v = extractPath(data, m.source_path);
      return v === undefined ? (m.default ?? null) : v;
    }
    case 'array_map': {
      if (!m.source_path) throw new Error(`mapping '${m.output_field}': array_map needs source_path`);
      const list = extractPath(data, m.source_path);
      if (!Array.isArray(list)) return m.default ?? [];
      const kept = m.filter_condition ? list.filter((item) => truthy(evalExpr(m.filter_condition!, { ...data, item }))) : list;
      return m.item_field ? kept.map((item) => extractPath(item, m.item_field!) ?? null) : kept;
    }
    case 'condition': {
      if (!m.condition) throw new Error(`mapping '${m.output_field}': condition needs condition`);
      return truthy(evalExpr(m.condition, data)) ? (m.then_value ?? true) : (m.else_value ?? false);
    }
    case 'template':
      return renderTemplate(m.template ?? '', data);
    case 'constant':
      return m.value ?? null;
    case 'script':
      if (!m.script) throw new Error(`mapping '${m.output_field}': script needs script`);
      return evalExpr(m.script, data);
  }
}

/** Save-time checks of a transform node's config: its shape and every expression/template it holds. */
export function transformConfigProblem(config: unknown): string | null {
  const parsed = transformConfigSchema.safeParse(config ?? {});
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    return `config.${i.path.join('.') || '(root)'}: ${i.message}`;
  }
  for (const m of parsed.data.mappings) {
    try {
      if (m.condition) parseExpression(m.condition);
      if (m.script) parseExpression(m.script);
      if (m.filter_condition) parseExpression(m.filter_condition);
      if (m.template) templateParts(m.template);
    } catch (err) {
      if (err instanceof ExpressionError) return `mapping '${m.output_field}': ${err.message}`;
      throw err;
    }
  }
  return null;
}

export interface TransformInput {
  context: Record<string, unknown>;
  history: ChatMessage[];
  userInput: string;
  /** The last output (the previous state's). */
  input: string;
}

function sourceData(cfg: TransformConfig, i: TransformInput): Record<string, unknown> {
  let data: unknown;
  switch (cfg.input_source) {
    case 'messages': {
      const last = [...i.history].reverse().find((m) => typeof m.content === 'string');
      const parsed = tryParseJson(String(last?.content ?? i.input ?? ''));
      data = isPlainObject(parsed) ? parsed : {};
      break;
    }
    case 'user_input': {
      const parsed = tryParseJson(i.userInput);
      data = isPlainObject(parsed) ? parsed : {};
      break;
    }
    case 'state_schema':
      data = { user_input: i.userInput };
      break;
    case 'combined':
      data = { ...i.context, user_input: i.userInput };
      break;
    default:
      data = cfg.input_key ? i.context[cfg.input_key] : i.context;
      if (typeof data === 'string') {
        const parsed = tryParseJson(data);
        if (parsed !== undefined) data = parsed;
      }
  }
  return isPlainObject(data) ? { ...data } : { data };
}

/** Checks `value` against the small JSON Schema subset the reference checks (type of each property, required). */
function schemaProblem(out: Record<string, unknown>, schema: Record<string, unknown>): string | null {
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  for (const k of required) if (!(k in out)) return `required field '${k}' is missing`;
  const props = isPlainObject(schema.properties) ? schema.properties : {};
  for (const [k, s] of Object.entries(props)) {
    if (!(k in out) || !isPlainObject(s) || typeof s.type !== 'string') continue;
    const v = out[k];
    const ok =
      s.type === 'string'
        ? typeof v === 'string'
        : s.type === 'integer'
          ? Number.isInteger(v)
          : s.type === 'number'
            ? typeof v === 'number'
            : s.type === 'boolean'
              ? typeof v === 'boolean'
              : s.type === 'array'
                ? Array.isArray(v)
                : s.type === 'object'
                  ? isPlainObject(v)
                  : s.type === 'null'
                    ? v === null
                    : true;
    if (!ok) {
      // the reference coerces simple types before it refuses
      if (s.type === 'string' && v !== null && v !== undefined) out[k] = typeof v === 'object' ? JSON.stringify(v) : String(v);
      else if ((s.type === 'integer' || s.type === 'number') && typeof v === 'string' && v.trim() && Number.isFinite(Number(v)))
        out[k] = s.type === 'integer' ? Math.trunc(Number(v)) : Number(v);
      else if (s.type === 'boolean' && typeof v === 'string' && /^(true|false)$/i.test(v)) out[k] = v.toLowerCase() === 'true';
      else return `field '${k}' should be ${s.type}`;
    }
  }
  return null;
}

/** Runs the transform; returns its output object (or throws when on_error is 'fail'). */
export function runTransform(config: unknown, input: TransformInput): Record<string, unknown> {
  const cfg = transformConfigSchema.parse(config ?? {});
  try {
    const data = sourceData(cfg, input);
    const out: Record<string, unknown> = {};
    for (const m of cfg.mappings) {
      try {
        out[m.output_field] = applyMapping(m, { ...data, ...out });
      } catch (err) {
        if (cfg.on_error === 'partial') continue;
        throw err;
      }
    }
    if (cfg.output_schema) {
      const p = schemaProblem(out, cfg.output_schema);
      if (p) throw new Error(`output does not match output_schema: ${p}`);
    }
    return out;
  } catch (err) {
    if (cfg.on_error === 'skip') return {};
    if (cfg.on_error === 'default') return { ...cfg.default_output };
    throw new Error(`Transformation failed: ${(err as Error).message}`);
  }
}
