/**
 * Queries on the hottest paths (an assistant call's lookup and its conversation write), compiled
 * once. Kysely builds and compiles a query tree on every call (~20–60 µs each on this machine,
 * several per request); the SQL of these queries never changes, only the bound values do.
 *
 *   const byId = compiledOnce(db, (id: string) => db.selectFrom('assistants').selectAll().where('id', '=', id));
 *   const row = (await byId.run(db, [someId])).rows[0];
 *
 * The builder is called once with marker values; every parameter that is a marker is bound from
 * the call's arguments, every other parameter (constants in the query) is kept.
 */
import type { CompiledQuery, Compilable, Kysely, QueryResult } from 'kysely';

const MARKER = '\u0000codemie-param:';

export interface CompiledOnce<A extends unknown[], R> {
  /** Runs the query on `db` (the Kysely instance or a transaction) with these values. */
  run(db: Pick<Kysely<never>, 'executeQuery'>, args: A): Promise<QueryResult<R>>;
}

export function compiledOnce<A extends unknown[], R>(build: (...args: A) => Compilable<R>, arity: A['length']): CompiledOnce<A, R> {
  let compiled: CompiledQuery<R> | undefined;
  let slots: Array<number | { value: unknown }> = [];
  const compile = () => {
    const markers = Array.from({ length: arity }, (_, i) => `${MARKER}${i}`) as unknown as A;
    const c = build(...markers).compile();
    slots = c.parameters.map((p) => (typeof p === 'string' && p.startsWith(MARKER) ? Number(p.slice(MARKER.length)) : { value: p }));
    compiled = c;
    return c;
  };
  return {
    run(db, args) {
      const c = compiled ?? compile();
      const parameters = slots.map((s) => (typeof s === 'number' ? args[s] : s.value));
      return db.executeQuery<R>({ ...c, parameters });
    },
  };
}
