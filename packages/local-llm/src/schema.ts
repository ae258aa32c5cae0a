/** JSON schema helpers for node-llama-cpp's grammar and function-calling support. */

/** JSON schema → something node-llama-cpp's grammar builder accepts (drops annotations it rejects). */
export function cleanSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(cleanSchema);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema as Record<string, unknown>)) {
    if (k === '$schema' || k === 'title' || k === 'default' || k === 'examples') continue;
    // maps of names → schemas: keep every name (a property may be called "title")
    out[k] = (k === 'properties' || k === '$defs' || k === 'definitions') && v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([name, sub]) => [name, cleanSchema(sub)]))
      : cleanSchema(v);
  }
  return out;
}
