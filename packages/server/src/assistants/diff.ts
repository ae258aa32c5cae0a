/**
 * The version comparison of the reference: Python DeepDiff with ignore_order=True,
 * report_repetition=True, verbose_level=2, rendered as JSON — keys `values_changed`,
 * `type_changes`, `iterable_item_added`, `iterable_item_removed`, `dictionary_item_added`,
 * `dictionary_item_removed`, `repetition_change` (each present only when non-empty), paths like
 * `root['toolkits'][0]['tools'][1]['name']` — and its one-paragraph change summary.
 * Lists are compared as multisets (ignore_order): items present on one side only are added or
 * removed, an item whose count changes is a repetition change.
 */

export type Diff = Partial<Record<
  'values_changed' | 'type_changes' | 'iterable_item_added' | 'iterable_item_removed' | 'dictionary_item_added' | 'dictionary_item_removed' | 'repetition_change',
  Record<string, unknown>
>>;

/** Python's name of a JSON value's type. */
function pyType(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (Array.isArray(v)) return 'list';
  return 'dict';
}

function key(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(key).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${key(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

const pathKey = (k: string) => `['${k.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}']`;

export function deepDiff(a: unknown, b: unknown): Diff {
  const out: Diff = {};
  const put = (kind: keyof Diff, path: string, value: unknown) => ((out[kind] ??= {})[path] = value);
  const walk = (x: unknown, y: unknown, path: string) => {
    const tx = pyType(x);
    const ty = pyType(y);
    if (tx !== ty) {
      put('type_changes', path, { old_type: `<class '${tx}'>`, new_type: `<class '${ty}'>`, old_value: x ?? null, new_value: y ?? null });
      return;
    }
    if (tx === 'dict') {
      const ox = x as Record<string, unknown>;
      const oy = y as Record<string, unknown>;
      for (const k of Object.keys(ox)) if (!(k in oy)) put('dictionary_item_removed', `${path}${pathKey(k)}`, ox[k]);
      for (const k of Object.keys(oy)) if (!(k in ox)) put('dictionary_item_added', `${path}${pathKey(k)}`, oy[k]);
      for (const k of Object.keys(ox)) if (k in oy) walk(ox[k], oy[k], `${path}${pathKey(k)}`);
      return;
    }
    if (tx === 'list') {
      const lx = x as unknown[];
      const ly = y as unknown[];
      const idx = (l: unknown[]) => {
        const m = new Map<string, number[]>();
        l.forEach((v, i) => {
          const k = key(v);
          m.set(k, [...(m.get(k) ?? []), i]);
        });
        return m;
      };
      const ix = idx(lx);
      const iy = idx(ly);
      for (const [k, is] of ix) if (!iy.has(k)) for (const i of is) put('iterable_item_removed', `${path}[${i}]`, lx[i]);
      for (const [k, is] of iy) if (!ix.has(k)) for (const i of is) put('iterable_item_added', `${path}[${i}]`, ly[i]);
      for (const [k, is] of ix) {
        const js = iy.get(k);
        if (js && js.length !== is.length) {
          put('repetition_change', `${path}[${is[0]}]`, { old_repeat: is.length, new_repeat: js.length, old_indexes: is, new_indexes: js, value: lx[is[0]!] });
        }
      }
      return;
    }
    if (x !== y) put('values_changed', path, { new_value: y, old_value: x });
  };
  walk(a, b, 'root');
  return out;
}

/** `root['toolkits'][0]['tools'][1]['name']` → `toolkits[0].tools[1].name`. */
export function fieldOf(path: string): string {
  return path
    .replace(/^root/, '')
    .replace(/\['((?:[^'\\]|\\.)*)'\]/g, (_m, k: string) => `.${k.replace(/\\(.)/g, '$1')}`)
    .replace(/^\./, '');
}

export function changeSummary(d: Diff, v1: number, v2: number): string {
  if (!Object.keys(d).length) return `No differences between version ${v1} and version ${v2}`;
  const lines = [`Changes from version ${v1} to version ${v2}:`];
  const types = Object.entries(d.type_changes ?? {});
  if (types.length) {
    lines.push(`- ${types.length} field(s) with type changes`);
    for (const [p, v] of types.slice(0, 3)) {
      const t = v as { old_type: string; new_type: string };
      const name = (s: string) => s.replace(/^<class '(.*)'>$/, '$1');
      lines.push(`  • ${fieldOf(p)} type changed: ${name(t.old_type)} → ${name(t.new_type)}`);
    }
  }
  const changed = Object.keys(d.values_changed ?? {});
  if (changed.length) {
    lines.push(`- ${changed.length} field(s) modified`);
    for (const p of changed.slice(0, 3)) lines.push(`  • ${fieldOf(p)} changed`);
  }
  const n = (k: keyof Diff) => Object.keys(d[k] ?? {}).length;
  if (n('iterable_item_added')) lines.push(`- ${n('iterable_item_added')} item(s) added`);
  if (n('iterable_item_removed')) lines.push(`- ${n('iterable_item_removed')} item(s) removed`);
  if (n('dictionary_item_added')) lines.push(`- ${n('dictionary_item_added')} new field(s)`);
  if (n('dictionary_item_removed')) lines.push(`- ${n('dictionary_item_removed')} field(s) removed`);
  return lines.join('\n');
}
