/**
 * A safe evaluator for workflow conditions in the reference's Python-like syntax:
 * `and/or/not`, `in`/`not in`, `is`/`is not`, `== != < <= > >=`, literals (strings, numbers,
 * lists, True/False/None and true/false/null), names, dotted and indexed access into the
 * context, parentheses. No eval/new Function: a tokenizer, a recursive-descent parser to an
 * AST and a tree-walking evaluator. Calls are limited to a fixed allow-list of pure helpers
 * (`len(x)`, and the string methods the reference docs use: lower, upper, strip, startswith,
 * endswith); every other call, and any name or attribute starting with `_`, is rejected.
 * Bounded: at most MAX_EXPRESSION_LENGTH characters and MAX_NESTING levels of nesting
 * (parentheses, lists, indexes, calls, `not`, unary minus), so neither the recursive parser nor
 * the evaluator can run out of stack; beyond them an ExpressionError says so.
 */

export const MAX_EXPRESSION_LENGTH = 10_000;
export const MAX_NESTING = 100;
/** Operands of one `and`/`or` chain, or steps of one `a.b[0].c` chain (each adds a level to the evaluator's recursion). */
export const MAX_CHAIN = 1_000;

function chained(n: number): void {
  if (n > MAX_CHAIN) throw new ExpressionError(`the expression chains more than ${MAX_CHAIN} operands or accessors`);
}

export class ExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpressionError';
  }
}

type Tok = { t: 'num'; v: number } | { t: 'str'; v: string } | { t: 'name'; v: string } | { t: 'op'; v: string } | { t: 'eof' };

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'if', 'else']);
const METHODS = new Set(['lower', 'upper', 'strip', 'startswith', 'endswith', 'get', 'split', 'replace', 'keys', 'values', 'join']);
const FUNCTIONS = new Set(['len', 'str', 'int', 'float', 'bool', 'abs', 'min', 'max', 'sum', 'round', 'sorted']);

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?|^[0-9]+\.?/.exec(src.slice(i))!;
      out.push({ t: 'num', v: Number(m[0]) });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      out.push({ t: 'name', v: m[0] });
      i += m[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      let s = '';
      let j = i + 1;
      for (;;) {
        if (j >= src.length) throw new ExpressionError(`unterminated string starting at position ${i + 1}`);
        const d = src[j];
        if (d === c) break;
        if (d === '\\') {
          const e = src[j + 1];
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : (e ?? '');
          j += 2;
          continue;
        }
        s += d;
        j++;
      }
      out.push({ t: 'str', v: s });
      i = j + 1;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (['==', '!=', '<=', '>='].includes(two)) {
      out.push({ t: 'op', v: two });
      i += 2;
      continue;
    }
    if ('<>()[],.-+*/%'.includes(c)) {
      out.push({ t: 'op', v: c });
      i++;
      continue;
    }
    throw new ExpressionError(`unexpected character '${c}' at position ${i + 1}`);
  }
  out.push({ t: 'eof' });
  return out;
}

export type Node =
  | { k: 'lit'; v: unknown }
  | { k: 'name'; n: string }
  | { k: 'list'; items: Node[] }
  | { k: 'attr'; obj: Node; n: string }
  | { k: 'index'; obj: Node; idx: Node }
  | { k: 'call'; fn: string; recv?: Node; args: Node[] }
  | { k: 'not'; e: Node }
  | { k: 'neg'; e: Node }
  | { k: 'bool'; op: 'and' | 'or'; l: Node; r: Node }
  | { k: 'if'; cond: Node; then: Node; otherwise: Node }
  | { k: 'bin'; op: '+' | '-' | '*' | '/' | '%'; l: Node; r: Node }
  | { k: 'cmp'; first: Node; rest: Array<{ op: string; e: Node }> };

function checkName(n: string): void {
  if (n.startsWith('_')) throw new ExpressionError(`names starting with '_' are not allowed: ${n}`);
}

class Parser {
  private p = 0;
  private depth = 0;
  constructor(private readonly toks: Tok[]) {}

  /** Every nested sub-expression passes through here. */
  private nested<T>(parse: () => T): T {
    if (++this.depth > MAX_NESTING) throw new ExpressionError(`the expression is nested more than ${MAX_NESTING} levels deep`);
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  private peek(): Tok {
    return this.toks[this.p];
  }
  private isOp(v: string): boolean {
    const t = this.peek();
    return t.t === 'op' && t.v === v;
  }
  private isKw(v: string, offset = 0): boolean {
    const t = this.toks[this.p + offset];
    return t?.t === 'name' && t.v === v;
  }
  private expectOp(v: string): void {
    if (!this.isOp(v)) throw new ExpressionError(`expected '${v}' but found ${describe(this.peek())}`);
    this.p++;
  }

  parse(): Node {
    const n = this.or();
    if (this.peek().t !== 'eof') throw new ExpressionError(`unexpected ${describe(this.peek())}`);
    return n;
  }
  private or(): Node {
    return this.nested(() => {
      const body = this.orChain();
      if (!this.isKw('if')) return body;
      // Python's conditional expression: `a if condition else b`
      this.p++;
      const cond = this.orChain();
      if (!this.isKw('else')) throw new ExpressionError(`expected 'else' but found ${describe(this.peek())}`);
      this.p++;
      return { k: 'if', cond, then: body, otherwise: this.or() };
    });
  }
  private orChain(): Node {
    let l = this.and();
    for (let n = 1; this.isKw('or'); n++) {
      chained(n);
      this.p++;
      l = { k: 'bool', op: 'or', l, r: this.and() };
    }
    return l;
  }
  private and(): Node {
    let l = this.not();
    for (let n = 1; this.isKw('and'); n++) {
      chained(n);
      this.p++;
      l = { k: 'bool', op: 'and', l, r: this.not() };
    }
    return l;
  }
  private not(): Node {
    if (this.isKw('not')) {
      this.p++;
      return { k: 'not', e: this.nested(() => this.not()) };
    }
    return this.cmp();
  }
  private cmp(): Node {
    const first = this.sum();
    const rest: Array<{ op: string; e: Node }> = [];
    for (;;) {
      const t = this.peek();
      let op: string | null = null;
      if (t.t === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.v)) {
        op = t.v;
        this.p++;
      } else if (this.isKw('in')) {
        op = 'in';
        this.p++;
      } else if (this.isKw('not') && this.isKw('in', 1)) {
        op = 'not in';
        this.p += 2;
      } else if (this.isKw('is')) {
        this.p++;
        if (this.isKw('not')) {
          this.p++;
          op = 'is not';
        } else op = 'is';
      }
      if (!op) break;
      rest.push({ op, e: this.sum() });
    }
    return rest.length ? { k: 'cmp', first, rest } : first;
  }
  private sum(): Node {
    let l = this.term();
    for (let n = 1; this.isOp('+') || this.isOp('-'); n++) {
      chained(n);
      const op = (this.peek() as { v: '+' | '-' }).v;
      this.p++;
      l = { k: 'bin', op, l, r: this.term() };
    }
    return l;
  }
  private term(): Node {
    let l = this.unary();
    for (let n = 1; this.isOp('*') || this.isOp('/') || this.isOp('%'); n++) {
      chained(n);
      const op = (this.peek() as { v: '*' | '/' | '%' }).v;
      this.p++;
      l = { k: 'bin', op, l, r: this.unary() };
    }
    return l;
  }
  private unary(): Node {
    if (this.isOp('-')) {
      this.p++;
      return { k: 'neg', e: this.nested(() => this.unary()) };
    }
    return this.postfix();
  }
  private postfix(): Node {
    let n = this.primary();
    for (let steps = 1; ; steps++) {
      chained(steps);
      if (this.isOp('.')) {
        this.p++;
        const t = this.peek();
        if (t.t !== 'name') throw new ExpressionError(`expected an attribute name after '.' but found ${describe(t)}`);
        this.p++;
        checkName(t.v);
        if (this.isOp('(')) {
          if (!METHODS.has(t.v)) throw new ExpressionError(`method calls are not allowed: .${t.v}() (allowed: ${[...METHODS].join(', ')})`);
          n = { k: 'call', fn: t.v, recv: n, args: this.args() };
        } else n = { k: 'attr', obj: n, n: t.v };
      } else if (this.isOp('[')) {
        this.p++;
        const idx = this.or();
        this.expectOp(']');
        n = { k: 'index', obj: n, idx };
      } else if (this.isOp('(')) {
        if (n.k === 'name' && FUNCTIONS.has(n.n)) n = { k: 'call', fn: n.n, args: this.args() };
        else
          throw new ExpressionError(
            `function calls are not allowed${n.k === 'name' ? `: ${n.n}()` : ''} (allowed: ${[...FUNCTIONS].map((f) => `${f}()`).join(', ')})`,
          );
      } else return n;
    }
  }
  private args(): Node[] {
    this.expectOp('(');
    const args: Node[] = [];
    while (!this.isOp(')')) {
      args.push(this.or());
      if (!this.isOp(',')) break;
      this.p++;
    }
    this.expectOp(')');
    return args;
  }
  private primary(): Node {
    const t = this.peek();
    if (t.t === 'num' || t.t === 'str') {
      this.p++;
      return { k: 'lit', v: t.v };
    }
    if (t.t === 'name') {
      this.p++;
      if (t.v === 'True' || t.v === 'true') return { k: 'lit', v: true };
      if (t.v === 'False' || t.v === 'false') return { k: 'lit', v: false };
      if (t.v === 'None' || t.v === 'null') return { k: 'lit', v: null };
      if (KEYWORDS.has(t.v)) throw new ExpressionError(`unexpected keyword '${t.v}'`);
      checkName(t.v);
      return { k: 'name', n: t.v };
    }
    if (this.isOp('(')) {
      this.p++;
      const e = this.or();
      this.expectOp(')');
      return e;
    }
    if (this.isOp('[')) {
      this.p++;
      const items: Node[] = [];
      while (!this.isOp(']')) {
        items.push(this.or());
        if (!this.isOp(',')) break;
        this.p++;
      }
      this.expectOp(']');
      return { k: 'list', items };
    }
    throw new ExpressionError(`unexpected ${describe(t)}`);
  }
}

function describe(t: Tok): string {
  if (t.t === 'eof') return 'end of expression';
  if (t.t === 'str') return `string '${t.v}'`;
  return `'${t.v}'`;
}

/** Parses an expression; throws ExpressionError naming the problem. */
export function parseExpression(src: string): Node {
  if (typeof src !== 'string' || !src.trim()) throw new ExpressionError('empty expression');
  if (src.length > MAX_EXPRESSION_LENGTH)
    throw new ExpressionError(`the expression is ${src.length} characters long; at most ${MAX_EXPRESSION_LENGTH} are accepted`);
  return new Parser(tokenize(src)).parse();
}

export function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (Array.isArray(v)) return 'list';
  return typeof v === 'object' ? 'dict' : typeof v;
}

function member(obj: unknown, key: unknown): unknown {
  if (obj === null || obj === undefined) return null;
  if (Array.isArray(obj) || typeof obj === 'string') {
    if (typeof key !== 'number' || !Number.isInteger(key)) return null;
    const i = key < 0 ? obj.length + key : key;
    return (obj as ArrayLike<unknown>)[i] ?? null;
  }
  if (typeof obj === 'object') {
    const k = String(key);
    return Object.prototype.hasOwnProperty.call(obj, k) ? (obj as Record<string, unknown>)[k] : null;
  }
  return null;
}

function compare(op: string, a: unknown, b: unknown): boolean {
  switch (op) {
    case '==':
    case 'is':
      return deepEqual(a, b);
    case '!=':
    case 'is not':
      return !deepEqual(a, b);
    case 'in':
    case 'not in': {
      let r: boolean;
      if (typeof b === 'string') r = typeof a === 'string' && b.includes(a);
      else if (Array.isArray(b)) r = b.some((x) => deepEqual(x, a));
      else if (b && typeof b === 'object') r = Object.prototype.hasOwnProperty.call(b, String(a));
      else throw new ExpressionError(`argument of type '${typeName(b)}' is not iterable`);
      return op === 'in' ? r : !r;
    }
    default: {
      const ok = (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string');
      if (!ok) throw new ExpressionError(`'${op}' not supported between '${typeName(a)}' and '${typeName(b)}'`);
      const x = a as number | string;
      const y = b as number | string;
      return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
    }
  }
}

const num = (v: unknown, fn: string): number => {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v.trim() && Number.isFinite(Number(v))) return Number(v);
  throw new ExpressionError(`${fn}() argument must be a number, not '${typeName(v)}'`);
};

function pyStr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : JSON.stringify(v);
}

function items(v: unknown, fn: string): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [...v];
  if (v && typeof v === 'object') return Object.keys(v);
  throw new ExpressionError(`'${typeName(v)}' object is not iterable (${fn}())`);
}

function arith(op: string, a: unknown, b: unknown): unknown {
  if (op === '+') {
    if (typeof a === 'string' && typeof b === 'string') return a + b;
    if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  }
  if (op === '*' && typeof a === 'string' && typeof b === 'number') return a.repeat(Math.max(0, Math.min(b, 10_000)));
  if ((typeof a !== 'number' && typeof a !== 'boolean') || (typeof b !== 'number' && typeof b !== 'boolean')) {
    throw new ExpressionError(`unsupported operand type(s) for ${op}: '${typeName(a)}' and '${typeName(b)}'`);
  }
  const x = Number(a);
  const y = Number(b);
  if ((op === '/' || op === '%') && y === 0) throw new ExpressionError('division by zero');
  switch (op) {
    case '+':
      return x + y;
    case '-':
      return x - y;
    case '*':
      return x * y;
    case '/':
      return x / y;
    default:
      return ((x % y) + y) % y;
  }
}

function callFn(fn: string, recv: unknown, args: unknown[]): unknown {
  if (recv === undefined) {
    const v = args[0];
    switch (fn) {
      case 'len':
        if (typeof v === 'string' || Array.isArray(v)) return v.length;
        if (v && typeof v === 'object') return Object.keys(v).length;
        throw new ExpressionError(`object of type '${typeName(v)}' has no len()`);
      case 'str':
        return pyStr(v);
      case 'int':
        return Math.trunc(num(v, fn));
      case 'float':
        return num(v, fn);
      case 'bool':
        return truthy(v);
      case 'abs':
        return Math.abs(num(v, fn));
      case 'round':
        return args.length > 1 ? Number(num(v, fn).toFixed(Math.max(0, Math.min(20, num(args[1], fn))))) : Math.round(num(v, fn));
      case 'sum':
        return items(v, fn).reduce<number>((acc, x) => acc + num(x, fn), 0);
      case 'min':
      case 'max': {
        const list = args.length > 1 ? args : items(v, fn);
        if (!list.length) throw new ExpressionError(`${fn}() arg is an empty sequence`);
        return list.reduce((a, b) => (compare(fn === 'min' ? '<' : '>', b, a) ? b : a));
      }
      case 'sorted':
        return [...items(v, fn)].sort((a, b) => (compare('<', a, b) ? -1 : compare('>', a, b) ? 1 : 0));
    }
    throw new ExpressionError(`unknown function ${fn}`);
  }
  if (recv && typeof recv === 'object' && !Array.isArray(recv)) {
    const o = recv as Record<string, unknown>;
    if (fn === 'get') return Object.prototype.hasOwnProperty.call(o, String(args[0])) ? o[String(args[0])] : (args[1] ?? null);
    if (fn === 'keys') return Object.keys(o);
    if (fn === 'values') return Object.values(o);
  }
  if (fn === 'join' && typeof recv === 'string') return items(args[0], fn).map(pyStr).join(recv);
  if (typeof recv !== 'string') throw new ExpressionError(`'${typeName(recv)}' has no method '${fn}'`);
  switch (fn) {
    case 'lower':
      return recv.toLowerCase();
    case 'upper':
      return recv.toUpperCase();
    case 'strip':
      return recv.trim();
    case 'startswith':
      return recv.startsWith(String(args[0] ?? ''));
    case 'endswith':
      return recv.endsWith(String(args[0] ?? ''));
    case 'split':
      return args[0] == null ? recv.split(/\s+/).filter(Boolean) : recv.split(String(args[0]));
    case 'replace':
      return recv.split(String(args[0] ?? '')).join(String(args[1] ?? ''));
  }
  throw new ExpressionError(`unknown function ${fn}`);
}

export function evaluateNode(n: Node, vars: Record<string, unknown>): unknown {
  switch (n.k) {
    case 'lit':
      return n.v;
    case 'name':
      if (!Object.prototype.hasOwnProperty.call(vars, n.n)) throw new ExpressionError(`name '${n.n}' is not defined`);
      return vars[n.n];
    case 'list':
      return n.items.map((i) => evaluateNode(i, vars));
    case 'attr':
      return member(evaluateNode(n.obj, vars), n.n);
    case 'index':
      return member(evaluateNode(n.obj, vars), evaluateNode(n.idx, vars));
    case 'call':
      return callFn(
        n.fn,
        n.recv ? evaluateNode(n.recv, vars) : undefined,
        n.args.map((a) => evaluateNode(a, vars)),
      );
    case 'not':
      return !truthy(evaluateNode(n.e, vars));
    case 'neg': {
      const v = evaluateNode(n.e, vars);
      if (typeof v !== 'number') throw new ExpressionError(`bad operand type for unary -: '${typeName(v)}'`);
      return -v;
    }
    case 'if':
      return truthy(evaluateNode(n.cond, vars)) ? evaluateNode(n.then, vars) : evaluateNode(n.otherwise, vars);
    case 'bin':
      return arith(n.op, evaluateNode(n.l, vars), evaluateNode(n.r, vars));
    case 'bool': {
      const l = evaluateNode(n.l, vars);
      if (n.op === 'and') return truthy(l) ? evaluateNode(n.r, vars) : l;
      return truthy(l) ? l : evaluateNode(n.r, vars);
    }
    case 'cmp': {
      let left = evaluateNode(n.first, vars);
      for (const { op, e } of n.rest) {
        const right = evaluateNode(e, vars);
        if (!compare(op, left, right)) return false;
        left = right;
      }
      return true;
    }
  }
}

/** Parses and evaluates; the result is Python-truthiness of the value. Throws ExpressionError. */
export function evaluateCondition(src: string, vars: Record<string, unknown>): boolean {
  return truthy(evaluateNode(parseExpression(src), vars));
}
