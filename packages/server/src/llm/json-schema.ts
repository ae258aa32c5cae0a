/**
 * JSON Schema for structured output: callers check a schema up front (422 when invalid),
 * the agent loop validates the model's final object against it. ajv 8 (draft-07 / 2019 subset).
 * Schemas are bounded before ajv sees them (ajv's compiler recurses and generates code per
 * node): at most MAX_SCHEMA_DEPTH levels of nesting and MAX_SCHEMA_NODES values, measured
 * without recursion, so no schema can exhaust the stack or hold the event loop.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS; its default export arrives as the module object under NodeNext.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv) => Ajv;

const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: true });
addFormats(ajv);

const cache = new WeakMap<object, ValidateFunction>();

/** Real schemas nest a handful of levels; 64 leaves ample room for generated ones. */
export const MAX_SCHEMA_DEPTH = 64;
export const MAX_SCHEMA_NODES = 10_000;

/** Why `schema` is too large or too deep to compile, or null. Iterative: any depth is safe to measure. */
export function schemaShapeProblem(schema: unknown): string | null {
  const stack: Array<[unknown, number]> = [[schema, 1]];
  let nodes = 0;
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (++nodes > MAX_SCHEMA_NODES) return `the schema has more than ${MAX_SCHEMA_NODES} values`;
    if (!v || typeof v !== 'object') continue;
    if (depth > MAX_SCHEMA_DEPTH) return `the schema is nested more than ${MAX_SCHEMA_DEPTH} levels deep`;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return null;
}

export interface SchemaCheck {
  ok: boolean;
  /** Human-readable problems (empty when ok). */
  errors: string[];
}

/** Is this a usable JSON Schema for a structured answer (an object schema ajv can compile)? */
export function validateJsonSchema(schema: unknown): SchemaCheck {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return { ok: false, errors: ['the schema must be a JSON object'] };
  const s = schema as Record<string, unknown>;
  if (s.type !== undefined && s.type !== 'object') return { ok: false, errors: ['the schema must describe an object ("type": "object")'] };
  const shape = schemaShapeProblem(s);
  if (shape) return { ok: false, errors: [shape] };
  try {
    compile(s);
    return { ok: true, errors: [] };
  } catch (err) {
    // never an engine message such as "Maximum call stack size exceeded"
    if (err instanceof RangeError) return { ok: false, errors: ['the schema is too complex to compile'] };
    return { ok: false, errors: [(err as Error).message] };
  }
}

function compile(schema: Record<string, unknown>): ValidateFunction {
  let fn = cache.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    cache.set(schema, fn);
  }
  return fn;
}

/** Validates a value; errors like `/name: must be string`. */
export function validateAgainstSchema(schema: Record<string, unknown>, value: unknown): SchemaCheck {
  const fn = compile(schema);
  if (fn(value)) return { ok: true, errors: [] };
  return { ok: false, errors: (fn.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}`) };
}

/** The JSON object in a model's answer: the whole text, or a fenced ```json block, or the outermost {...}. */
export function extractJsonObject(text: string): unknown {
  const t = text.trim();
  const tries = [t];
  const fence = /```(?:json)?\s*([\s\S]*?)```/i.exec(t);
  if (fence) tries.push(fence[1].trim());
  const a = t.indexOf('{');
  const b = t.lastIndexOf('}');
  if (a >= 0 && b > a) tries.push(t.slice(a, b + 1));
  for (const s of tries) {
    try {
      return JSON.parse(s);
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** A validator for a tool's argument schema, or undefined when ajv cannot compile it (then arguments pass as is). */
export function tryValidator(schema: Record<string, unknown>): ((value: unknown) => SchemaCheck) | undefined {
  if (schemaShapeProblem(schema)) return undefined;
  try {
    compile(schema);
  } catch {
    return undefined;
  }
  return (value) => validateAgainstSchema(schema, value);
}
