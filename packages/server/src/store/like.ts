/**
 * LIKE with literal `%`, `_` and `\` in the searched text, the same on both databases: SQLite has
 * no default escape character (PostgreSQL's is `\`), so the ESCAPE clause is always written.
 */
import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';

export const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** `expr LIKE pattern ESCAPE '\'` (or NOT LIKE); build `pattern` with escapeLike. */
export function like(expr: Expression<unknown>, pattern: string, not = false): RawBuilder<SqlBool> {
  return not ? sql<SqlBool>`${expr} not like ${pattern} escape '\\'` : sql<SqlBool>`${expr} like ${pattern} escape '\\'`;
}
