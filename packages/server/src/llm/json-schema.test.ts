import { describe, expect, it } from 'vitest';
import { extractJsonObject, validateAgainstSchema, validateJsonSchema } from './json-schema.js';

describe('validateJsonSchema', () => {
  it('accepts object schemas', () => {
    expect(validateJsonSchema({ type: 'object', properties: { a: { type: 'string', format: 'email' } }, required: ['a'] })).toEqual({ ok: true, errors: [] });
    expect(validateJsonSchema({ properties: { a: { type: 'number' } } }).ok).toBe(true);
  });
  it('rejects non-objects, non-object roots and invalid schemas with a reason', () => {
    expect(validateJsonSchema('x')).toEqual({ ok: false, errors: ['the schema must be a JSON object'] });
    expect(validateJsonSchema([]).ok).toBe(false);
    expect(validateJsonSchema({ type: 'array' }).errors[0]).toContain('"type": "object"');
    const bad = validateJsonSchema({ type: 'object', properties: { a: { type: 'strin' } } });
    expect(bad.ok).toBe(false);
    expect(bad.errors[0]).toMatch(/schema is invalid/);
  });
});

describe('validateJsonSchema: bounded', () => {
  const nested = (levels: number) => {
    let inner: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < levels; i++) inner = { type: 'object', properties: { x: inner } };
    return inner;
  };
  it('a schema nested 20 000 levels deep is refused with a reason, not "Maximum call stack size exceeded"', () => {
    const r = validateJsonSchema(nested(20_000));
    expect(r).toEqual({ ok: false, errors: ['the schema is nested more than 64 levels deep'] });
  });
  it('accepts ordinary nesting; refuses a schema of more than 10 000 values', () => {
    expect(validateJsonSchema(nested(20)).ok).toBe(true);
    const wide = { type: 'object', properties: Object.fromEntries(Array.from({ length: 6000 }, (_, i) => [`p${i}`, { type: 'string' }])) };
    expect(validateJsonSchema(wide).errors).toEqual(['the schema has more than 10000 values']);
  });
});

describe('validateAgainstSchema / extractJsonObject', () => {
  const schema = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] };
  it('validates and names the failing path', () => {
    expect(validateAgainstSchema(schema, { n: 1 }).ok).toBe(true);
    expect(validateAgainstSchema(schema, { n: 'x' }).errors).toEqual(['/n: must be integer']);
    expect(validateAgainstSchema(schema, {}).errors[0]).toContain("must have required property 'n'");
  });
  it('finds the JSON object in plain, fenced or chatty answers', () => {
    expect(extractJsonObject('{"n":1}')).toEqual({ n: 1 });
    expect(extractJsonObject('```json\n{"n":2}\n```')).toEqual({ n: 2 });
    expect(extractJsonObject('Sure! {"n":3} Hope that helps')).toEqual({ n: 3 });
    expect(extractJsonObject('no json')).toBeUndefined();
  });
});
