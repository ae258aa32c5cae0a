/**
 * JSON Schema for structured output: callers check a schema up front (422 when invalid),
 * the agent loop validates the model's final object against it. ajv 8 (draft-07 / 2019 subset).
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS; its default export arrives as the module object under NodeNext.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv) => Ajv;

const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: true });
addFormats(ajv);

const cache = new WeakMap<object, ValidateFunction>();

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
  try {
    compile(s);
    return { ok: true, errors: [] };
  } catch (err) {
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
  try {
    compile(schema);
  } catch {
    return undefined;
  }
  return (value) => validateAgainstSchema(schema, value);
}
