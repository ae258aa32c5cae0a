import { describe, expect, it } from 'vitest';
import { evaluateCondition, ExpressionError, parseExpression } from './expression.js';

const ctx = {
  count: 12,
  status: 'Active',
  approved: true,
  tags: ['a', 'b'],
  user: { name: 'Ann', roles: ['admin'], address: { city: 'Oslo' } },
  items: [{ id: 1 }, { id: 2 }],
  empty: '',
  nothing: null,
};
const ev = (e: string) => evaluateCondition(e, ctx);

describe('condition expressions', () => {
  it('compares numbers, strings, booleans and None', () => {
    expect(ev('count > 10')).toBe(true);
    expect(ev('count >= 12 and count <= 12')).toBe(true);
    expect(ev('count < 5')).toBe(false);
    expect(ev("status == 'Active'")).toBe(true);
    expect(ev('status != "Active"')).toBe(false);
    expect(ev('approved == True')).toBe(true);
    expect(ev('approved == true')).toBe(true);
    expect(ev('nothing == None')).toBe(true);
    expect(ev('nothing is None')).toBe(true);
    expect(ev('status is not None')).toBe(true);
    expect(ev('-1 < 0')).toBe(true);
    expect(ev('1.5 < 2')).toBe(true);
    expect(ev('0 < count < 20')).toBe(true);
  });

  it('supports and/or/not, in/not in, parentheses and lists', () => {
    expect(ev("count > 10 and status == 'Active'")).toBe(true);
    expect(ev('not approved or count > 100')).toBe(false);
    expect(ev("'a' in tags")).toBe(true);
    expect(ev("'z' not in tags")).toBe(true);
    expect(ev("'ct' in status")).toBe(true);
    expect(ev("'name' in user")).toBe(true);
    expect(ev("status in ['Active', 'Done']")).toBe(true);
    expect(ev('(count > 100 or approved) and not empty')).toBe(true);
  });

  it('reads dotted and indexed paths into the context', () => {
    expect(ev("user.name == 'Ann'")).toBe(true);
    expect(ev("user.address.city == 'Oslo'")).toBe(true);
    expect(ev("'admin' in user.roles")).toBe(true);
    expect(ev('items[1].id == 2')).toBe(true);
    expect(ev("user['name'] == 'Ann'")).toBe(true);
    expect(ev('items[-1].id == 2')).toBe(true);
    expect(ev('user.missing == None')).toBe(true);
  });

  it('allows only the pure helpers the reference docs use', () => {
    expect(ev("'act' in status.lower()")).toBe(true);
    expect(ev("status.upper() == 'ACTIVE'")).toBe(true);
    expect(ev("status.startswith('Ac')")).toBe(true);
    expect(ev('len(tags) == 2')).toBe(true);
  });

  it('rejects anything unsafe or unknown at parse time', () => {
    const bad = [
      'user.__class__',
      '__import__("os")',
      'tags.pop()',
      'status.format(x)',
      'eval("1")',
      'open("/etc/passwd")',
      'user.constructor',
      '_private',
      'user._x',
      'count + 1',
      'a = 1',
      'lambda: 1',
      '[x for x in tags]',
      'count >',
      "'unterminated",
      '',
    ];
    for (const b of bad) {
      let ok = false;
      try {
        parseExpression(b);
        ok = b === 'user.constructor'; // parses, but evaluation only sees own JSON properties
      } catch (err) {
        expect(err).toBeInstanceOf(ExpressionError);
      }
      if (ok) expect(ev('user.constructor == None')).toBe(true);
    }
    expect(() => parseExpression('tags.pop()')).toThrow(/method calls are not allowed/);
    expect(() => parseExpression('user.__class__')).toThrow(/not allowed/);
    expect(() => parseExpression('eval("1")')).toThrow(/function calls are not allowed/);
  });

  it('reports evaluation errors for undefined names and bad comparisons', () => {
    expect(() => ev('missing > 1')).toThrow(/not defined/);
    expect(() => ev("count > 'x'")).toThrow(/not supported/);
    expect(() => ev("'a' in count")).toThrow(/not iterable/);
    expect(() => ev('toString')).toThrow(/not defined/);
  });
});
