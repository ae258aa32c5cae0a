/** `{{var}}` templating, JSON pointers and small JSON helpers for workflow states. */

/** Looks up `a.b.0.c` in vars (own properties only). */
export function lookup(vars: Record<string, unknown>, path: string): { found: boolean; value: unknown } {
  let cur: unknown = vars;
  for (const part of path.split('.')) {
    if (part.startsWith('__')) return { found: false, value: undefined };
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, part)) return { found: false, value: undefined };
    cur = (cur as Record<string, unknown>)[part];
  }
  return { found: true, value: cur };
}

export function asText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '';
  return JSON.stringify(v);
}

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

/** Replaces `{{name}}` / `{{a.b}}` with values from vars; unknown names are left as written. */
export function render(text: string, vars: Record<string, unknown>): string {
  if (!text.includes('{{')) return text;
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    const r = lookup(vars, name);
    return r.found ? asText(r.value) : whole;
  });
}

/** Templating over JSON values (tool_args): a string that is exactly `{{x}}` keeps x's type. */
export function renderDeep(value: unknown, vars: Record<string, unknown>): unknown {
  if (typeof value === 'string') {
    const m = /^\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}$/.exec(value);
    if (m) {
      const r = lookup(vars, m[1]);
      return r.found ? r.value : value;
    }
    return render(value, vars);
  }
  if (Array.isArray(value)) return value.map((v) => renderDeep(v, vars));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderDeep(v, vars)]));
  return value;
}

export function tryParseJson(text: string | null | undefined): unknown {
  if (typeof text !== 'string') return undefined;
  const t = text.trim();
  if (!t || !'{["'.includes(t[0])) {
    if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
    if (t === 'true' || t === 'false') return t === 'true';
    return undefined;
  }
  // Models often wrap JSON in a markdown fence.
  const fenced = /^```(?:json)?\s*([\s\S]*?)\s*```$/.exec(t);
  try {
    return JSON.parse(fenced ? fenced[1] : t);
  } catch {
    return undefined;
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** RFC 6901 JSON pointer; undefined when the path does not exist. */
export function jsonPointer(doc: unknown, pointer: string): unknown {
  if (pointer === '' || pointer === '/') return pointer === '' ? doc : (doc as Record<string, unknown>)?.[''];
  let cur = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) cur = cur[Number(key)];
    else if (isPlainObject(cur) && Object.prototype.hasOwnProperty.call(cur, key)) cur = cur[key];
    else return undefined;
  }
  return cur;
}
