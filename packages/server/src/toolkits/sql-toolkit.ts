/**
 * The SQL toolkit: read-only queries against a PostgreSQL or SQLite database described by the
 * user's SQL credentials (dialect, host, port, username, password, database_name).
 *
 * Read-only, in depth: only one statement, starting with SELECT / WITH / EXPLAIN / SHOW / VALUES /
 * TABLE / PRAGMA (SQLite, read-only ones); PostgreSQL runs it over the extended protocol (one
 * statement per message) in a `BEGIN READ ONLY` transaction of a session whose
 * `default_transaction_read_only` is on, then rolls back; SQLite opens the file read-only and
 * refuses statements SQLite itself does not report as read-only. Rows are capped (a query
 * returning more answers the first N and says so) and a statement timeout applies (PostgreSQL
 * `statement_timeout`; SQLite runs in a child process that is killed).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { realpathSync } from 'node:fs';
import { ToolFailure, type BuiltinTool, type BuiltinToolkit, type Credentials } from './types.js';

export interface SqlOptions {
  maxRows: number;
  timeoutMs: number;
  /** Directories whose SQLite files may be opened. */
  sqliteDirs: string[];
  /** Directories whose files are never opened (the platform's data directory, its own database in it). */
  deniedDirs: string[];
}

const READ_START = /^(select|with|explain|show|values|table|pragma)\b/i;
const WRITE_WORDS =
  /\b(insert\s+into|delete\s+from|update\s+[\w."]+\s+set|merge\s+into|create\s|alter\s|drop\s|truncate\s|grant\s|revoke\s|copy\s|lock\s+table)/i;

/** Comments and string literals removed (what the statement checks look at). */
function codeOnly(sql: string): string {
  return sql
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/'(?:[^']|'')*'/g, "''")
    .replace(/"(?:[^"]|"")*"/g, '""')
    .replace(/\$([A-Za-z_]*)\$[\s\S]*?\$\1\$/g, "''");
}

/** The statement if it is one read-only statement; throws the refusal otherwise. */
export function readOnlyStatement(sql: string, dialect: 'postgres' | 'sqlite'): string {
  const trimmed = sql.trim().replace(/;\s*$/, '');
  if (!trimmed) throw new ToolFailure('The query is empty');
  const code = codeOnly(trimmed).trim();
  if (code.includes(';')) throw new ToolFailure('Only one SQL statement can be run at a time');
  if (!READ_START.test(code)) {
    throw new ToolFailure(
      'Only read-only queries (SELECT, WITH, EXPLAIN, SHOW, VALUES) are allowed; this statement would change data or the schema and was refused',
    );
  }
  const first = code.split(/\s+/)[0]!.toLowerCase();
  // A CTE or EXPLAIN wrapping a write (WITH x AS (DELETE ...), EXPLAIN ANALYZE INSERT ...), a PRAGMA that sets something.
  if ((first === 'with' || first === 'explain') && WRITE_WORDS.test(code)) {
    throw new ToolFailure('Only read-only queries are allowed; this statement contains a data-changing part and was refused');
  }
  if (first === 'pragma' && (dialect !== 'sqlite' || code.includes('='))) throw new ToolFailure('Only read-only PRAGMA queries are allowed');
  if (/\bselect\b[\s\S]*\binto\b/i.test(code) && dialect === 'postgres' && !/\binsert\b/i.test(code)) {
    throw new ToolFailure('SELECT ... INTO creates a table and was refused');
  }
  return trimmed;
}

interface QueryResult {
  rows: Record<string, unknown>[];
  truncated: boolean;
}

const jsonValue = (v: unknown): unknown =>
  typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? `<${v.length} bytes>` : v instanceof Date ? v.toISOString() : v;

async function queryPostgres(c: Credentials, sql: string, o: SqlOptions): Promise<QueryResult> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({
    host: String(c.host ?? c.url ?? 'localhost'),
    port: Number(c.port ?? 5432),
    user: c.username != null ? String(c.username) : undefined,
    password: c.password != null ? String(c.password) : undefined,
    database: c.database_name != null ? String(c.database_name) : undefined,
    connectionTimeoutMillis: o.timeoutMs,
    statement_timeout: o.timeoutMs,
    query_timeout: o.timeoutMs + 1000,
    options: '-c default_transaction_read_only=on',
    application_name: 'codemie-sql-toolkit',
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('BEGIN READ ONLY');
    const first = codeOnly(sql).trim().split(/\s+/)[0]!.toLowerCase();
    const capped = first === 'select' || first === 'with' || first === 'values' || first === 'table';
    const text = capped ? `SELECT * FROM (${sql}) AS codemie_q LIMIT ${o.maxRows + 1}` : sql;
    const r = await client.query({ text, queryMode: 'extended' } as unknown as string);
    await client.query('ROLLBACK').catch(() => undefined);
    const rows = (r.rows as Record<string, unknown>[]).map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, jsonValue(v)])));
    return { rows: rows.slice(0, o.maxRows), truncated: rows.length > o.maxRows };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The SQLite query runs in a child process (better-sqlite3 is synchronous): a timeout kills it. */
const SQLITE_CHILD = `
const Database = require(process.argv[1]);
let input = '';
process.stdin.on('data', (d) => (input += d)).on('end', () => {
  const { file, sql, maxRows } = JSON.parse(input);
  let out;
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    const stmt = db.prepare(sql);
    if (!stmt.readonly) throw new Error('READONLY: this statement would change the database and was refused');
    if (!stmt.reader) { out = { rows: [], truncated: false }; }
    else {
      stmt.safeIntegers(true);
      const rows = [];
      let truncated = false;
      for (const row of stmt.iterate()) {
        if (rows.length >= maxRows) { truncated = true; break; }
        rows.push(row);
      }
      out = { rows, truncated };
    }
    db.close();
  } catch (err) { out = { error: err.message }; }
  process.stdout.write(JSON.stringify(out, (k, v) => typeof v === 'bigint' ? (v >= Number.MIN_SAFE_INTEGER && v <= Number.MAX_SAFE_INTEGER ? Number(v) : v.toString()) : (v && v.type === 'Buffer' && Array.isArray(v.data)) ? '<' + v.data.length + ' bytes>' : v));
});
`;

function sqliteFile(c: Credentials, o: SqlOptions): string {
  const name = String(c.database_name ?? c.host ?? c.url ?? '');
  if (!name) throw new ToolFailure('The SQL integration names no SQLite database file (database_name)');
  if (!o.sqliteDirs.length) throw new ToolFailure('SQLite databases are disabled: no directory is allowed (CODEMIE_SQL_SQLITE_DIRS)');
  let real: string;
  try {
    real = realpathSync(path.resolve(name));
  } catch {
    throw new ToolFailure(`The SQLite database '${name}' does not exist`);
  }
  const under = (d: string) => {
    let dir: string;
    try {
      dir = realpathSync(path.resolve(d));
    } catch {
      return false;
    }
    const rel = path.relative(dir, real);
    return !!rel && !rel.startsWith('..') && !path.isAbsolute(rel);
  };
  const inside = o.sqliteDirs.some(under);
  const denied = o.deniedDirs.some(under);
  if (!inside || denied) throw new ToolFailure(`The SQLite database '${name}' is not in a directory the SQL toolkit may read (CODEMIE_SQL_SQLITE_DIRS)`);
  return real;
}

async function querySqlite(c: Credentials, sql: string, o: SqlOptions, signal: AbortSignal): Promise<QueryResult> {
  const file = sqliteFile(c, o);
  const { createRequire } = await import('node:module');
  const modulePath = createRequire(import.meta.url).resolve('better-sqlite3');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', SQLITE_CHILD, modulePath], { stdio: ['pipe', 'pipe', 'pipe'], env: {} });
    let out = '';
    let err = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, o.timeoutMs);
    const onAbort = () => child.kill('SIGKILL');
    signal.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d.slice(0, 2000)));
    child.on('error', (e) => reject(new ToolFailure(`Could not run the query: ${e.message}`)));
    child.on('close', () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (timedOut) return reject(new ToolFailure(`The query was stopped after ${o.timeoutMs} ms`));
      try {
        const r = JSON.parse(out) as QueryResult & { error?: string };
        if (r.error) return reject(new ToolFailure(r.error.startsWith('READONLY: ') ? r.error.slice(10) : `There is an error: ${r.error}`));
        resolve(r);
      } catch {
        reject(new ToolFailure(`The query failed${err ? `: ${err.trim().split('\n').pop()}` : ''}`));
      }
    });
    child.stdin.end(JSON.stringify({ file, sql, maxRows: o.maxRows }));
  });
}

export function sqlToolkit(o: SqlOptions): BuiltinToolkit {
  const tool: BuiltinTool = {
    name: 'sql',
    label: 'SQL',
    description: [
      'Run a read-only SQL query (SELECT, WITH, EXPLAIN, SHOW) against the database configured in the SQL integration and get the rows as JSON.',
      `At most ${o.maxRows} rows are returned; statements that change data or the schema are refused.`,
      'To discover the schema, query information_schema (PostgreSQL) or sqlite_master (SQLite).',
    ].join(' '),
    userDescription: 'Runs read-only SQL queries against a PostgreSQL or SQLite database (credentials from the SQL integration).',
    inputSchema: { type: 'object', properties: { sql_query: { type: 'string', description: 'The SQL query to execute' } }, required: ['sql_query'] },
    readOnly: true,
    credentialType: 'SQL',
    credsSchema: {
      dialect: { type: 'str', required: true },
      host: { type: 'str', required: false },
      port: { type: 'str', required: false },
      username: { type: 'str', required: false },
      password: { type: 'str', required: false },
      database_name: { type: 'str', required: false },
    },
    async run(args, ctx) {
      if (typeof args.sql_query !== 'string') throw new ToolFailure("'sql_query' must be a string");
      const c = await ctx.credentials();
      if (!c) throw new ToolFailure("SQL configuration is not provided. Please provide in 'Integrations'.");
      const dialect = String(c.dialect ?? '').toLowerCase();
      const kind = dialect === 'postgres' || dialect === 'postgresql' ? 'postgres' : dialect === 'sqlite' ? 'sqlite' : null;
      if (!kind) throw new ToolFailure(`The SQL dialect '${dialect}' is not supported here (postgres or sqlite)`);
      const sql = readOnlyStatement(args.sql_query, kind);
      let r: QueryResult;
      try {
        r = kind === 'postgres' ? await queryPostgres(c, sql, o) : await querySqlite(c, sql, o, ctx.signal);
      } catch (err) {
        if (err instanceof ToolFailure) throw err;
        const msg = (err as Error).message;
        if (/read-only transaction/i.test(msg)) throw new ToolFailure('Only read-only queries are allowed; the database refused a change');
        if (/statement timeout|canceling statement/i.test(msg)) throw new ToolFailure(`The query was stopped after ${o.timeoutMs} ms`);
        throw new ToolFailure(`There is an error: ${msg}`);
      }
      const body = JSON.stringify(r.rows);
      return r.truncated ? `${body}\n[only the first ${o.maxRows} rows are shown]` : body;
    },
  };
  return { toolkit: 'SQL', label: 'SQL', settingsConfig: true, tools: [tool] };
}
