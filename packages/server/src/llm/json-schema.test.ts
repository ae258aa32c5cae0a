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
