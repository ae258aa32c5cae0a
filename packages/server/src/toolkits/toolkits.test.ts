/**
 * The built-in toolkits, each against the real thing: the file tools in a workspace (and every way
 * out of it refused: `..`, absolute paths, symbolic links to files and folders outside), SQL on a
 * real SQLite file and a real PostgreSQL database (rows, row cap, writes refused three ways,
 * timeout), OpenAPI against a local HTTP API (allow-list, servers, auth header, size limit,
 * timeout, redirects), the code executor (output, failure, timeout, memory, no network: a server
 * the test reaches is unreachable from the snippet).
 */
import { mkdirSync, symlinkSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthUser } from '../api/auth.js';
import { freshPostgres, tempDir } from '../../test/helpers.js';
import { readOnlyStatement } from './sql-toolkit.js';
import { ToolkitService } from './service.js';
import { hostAllowed } from './openapi-toolkit.js';
import type { Credentials } from './types.js';
import { unifiedDiff } from './file-toolkit.js';

const user: AuthUser = {
  id: 'u1',
  username: 'u1',
  name: 'U',
  email: 'u@x',
  roles: [],
  projects: ['demo'],
  adminProjects: [],
  isAdmin: false,
  userType: 'regular',
};

function service(dataDir: string, over: Partial<ConstructorParameters<typeof ToolkitService>[0]> = {}) {
  return new ToolkitService({
    dataDir,
    timeoutMs: 5000,
    maxOutputChars: 10_000,
    blockedTools: ['code_executor'],
    sql: { maxRows: 3, timeoutMs: 1000, sqliteDirs: [path.join(dataDir, 'dbs')], deniedDirs: [path.join(dataDir, 'platform')] },
    openapi: { allowedHosts: [], maxResponseBytes: 1000, maxSpecBytes: 100_000, timeoutMs: 1000 },
    code: { python: 'python3', timeoutMs: 3000, memoryMb: 256 },
    ...over,
  });
}

/** Runs one tool as an assistant call does (through the wrapper: limits, errors as results). */
async function run(svc: ToolkitService, name: string, args: Record<string, unknown>, creds: Credentials | null = null, workspace = 'conv-1') {
  const t = svc.find(name);
  if (!t) throw new Error(`no tool ${name}`);
  return svc.execute(t, args, { user, project: 'demo', workspace }, async () => creds, new AbortController().signal);
}

describe('file toolkit (workspace)', () => {
  const tmp = tempDir('codemie-tk-files-');
  const svc = service(tmp.dir);
  afterAll(() => tmp.cleanup());

  it('writes, reads, lists, diffs and searches inside the workspace of a conversation', async () => {
    expect(await run(svc, 'write_file_to_file_system', { file_path: 'notes/todo.md', text: 'one\ntwo\nthree\n' })).toEqual({
      output: 'File written successfully to notes/todo.md (14 bytes).',
      isError: false,
    });
    expect(readFileSync(path.join(tmp.dir, 'workspaces', 'conv-1', 'notes', 'todo.md'), 'utf8')).toBe('one\ntwo\nthree\n');
    expect((await run(svc, 'read_file_from_file_system', { file_path: 'notes/todo.md' })).output).toBe('one\ntwo\nthree\n');
    expect((await run(svc, 'list_directory_from_file_system', {})).output).toBe('notes/');
    expect((await run(svc, 'list_directory_from_file_system', { dir_path: 'notes' })).output).toBe('todo.md (14 bytes)');
    const diff = (await run(svc, 'diff_files_in_file_system', { file_path: 'notes/todo.md', new_text: 'one\n2\nthree\n' })).output;
    expect(diff).toBe(['--- notes/todo.md', '+++ notes/todo.md (proposed)', '@@ -1,4 +1,4 @@', ' one', '-two', '+2', ' three', ' '].join('\n'));
    expect((await run(svc, 'search_files_in_file_system', { query: 'TWO', ignore_case: true })).output).toBe('notes/todo.md:2: two');
    expect((await run(svc, 'search_files_in_file_system', { query: 'absent' })).output).toBe("No matches for 'absent'.");
    // Another conversation has its own, empty workspace.
    expect(await run(svc, 'read_file_from_file_system', { file_path: 'notes/todo.md' }, null, 'conv-2')).toEqual({
      output: "'notes/todo.md' does not exist in the workspace",
      isError: true,
    });
  });

  it('refuses every way out: .., absolute paths, links to files and folders outside (read and write)', async () => {
    const outside = path.join(tmp.dir, 'secret.txt');
    writeFileSync(outside, 'top secret');
    const ws = path.join(tmp.dir, 'workspaces', 'conv-1');
    symlinkSync(outside, path.join(ws, 'link.txt'));
    mkdirSync(path.join(tmp.dir, 'elsewhere'));
    symlinkSync(path.join(tmp.dir, 'elsewhere'), path.join(ws, 'dirlink'));
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['read_file_from_file_system', { file_path: '../../secret.txt' }, /outside the workspace/],
      ['read_file_from_file_system', { file_path: 'notes/../../../secret.txt' }, /outside the workspace/],
      ['read_file_from_file_system', { file_path: outside }, /is absolute/],
      ['read_file_from_file_system', { file_path: '/etc/passwd' }, /is absolute/],
      ['read_file_from_file_system', { file_path: 'link.txt' }, /symbolic link/],
      ['write_file_to_file_system', { file_path: 'link.txt', text: 'overwritten' }, /symbolic link/],
      ['write_file_to_file_system', { file_path: 'dirlink/new.txt', text: 'escaped' }, /symbolic link/],
      ['list_directory_from_file_system', { dir_path: 'dirlink' }, /symbolic link/],
      ['list_directory_from_file_system', { dir_path: '..' }, /outside the workspace/],
      ['write_file_to_file_system', { file_path: 'a\0b', text: 'x' }, /NUL/],
    ];
    for (const [tool, args, msg] of cases) {
      const r = await run(svc, tool, args);
      expect(r.isError, `${tool} ${JSON.stringify(args)}`).toBe(true);
      expect(r.output).toMatch(msg);
    }
    expect(readFileSync(outside, 'utf8')).toBe('top secret');
    expect(existsSync(path.join(tmp.dir, 'elsewhere', 'new.txt'))).toBe(false);
    // Links are listed but never followed by search.
    expect((await run(svc, 'list_directory_from_file_system', {})).output).toContain('link.txt (symbolic link, not followed)');
    expect((await run(svc, 'search_files_in_file_system', { query: 'secret' })).output).toBe("No matches for 'secret'.");
  });

  it('unifiedDiff: identical texts give nothing; separate hunks', () => {
    expect(unifiedDiff('a\nb', 'a\nb', 'x', 'y')).toBe('');
    const a = Array.from({ length: 20 }, (_, i) => `l${i}`).join('\n');
    const b = a.replace('l2', 'L2').replace('l17', 'L17');
    expect(unifiedDiff(a, b, 'a', 'b').match(/^@@/gm)).toHaveLength(2);
  });
});

describe('SQL toolkit', () => {
  const tmp = tempDir('codemie-tk-sql-');
  const svc = service(tmp.dir);
  let pgDb: { url: string; drop: () => Promise<void> };
  let pgCreds: Credentials;

  beforeAll(async () => {
    mkdirSync(path.join(tmp.dir, 'dbs'));
    const { default: SQLite } = await import('better-sqlite3');
    const db = new SQLite(path.join(tmp.dir, 'dbs', 'shop.db'));
    db.exec("create table items (id integer primary key, name text); insert into items (name) values ('a'), ('b'), ('c'), ('d'), ('e');");
    db.close();
    pgDb = await freshPostgres();
    const { default: pg } = await import('pg');
    const c = new pg.Client({ connectionString: pgDb.url });
    await c.connect();
    await c.query(
      "create table items (id serial primary key, name text); insert into items (name) values ('a'), ('b'), ('c'), ('d'), ('e'); create sequence s;",
    );
    await c.end();
    const u = new URL(pgDb.url);
    pgCreds = {
      dialect: 'postgres',
      host: u.hostname,
      port: u.port,
      username: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      database_name: u.pathname.slice(1),
    };
  });
  afterAll(async () => {
    await pgDb?.drop();
    tmp.cleanup();
  });

  it('statement checks: one read-only statement only', () => {
    expect(readOnlyStatement('select 1;', 'postgres')).toBe('select 1');
    expect(readOnlyStatement("select 'a;b' as x -- ; drop", 'postgres')).toContain("'a;b'");
    expect(() => readOnlyStatement('delete from items', 'postgres')).toThrow(/read-only/);
    expect(() => readOnlyStatement('select 1; drop table items', 'postgres')).toThrow(/one SQL statement/);
    expect(() => readOnlyStatement('with x as (delete from items returning *) select * from x', 'postgres')).toThrow(/data-changing/);
    expect(() => readOnlyStatement('pragma journal_mode = delete', 'sqlite')).toThrow(/PRAGMA/);
    expect(readOnlyStatement("with x as (select replace(name, 'a', 'b') as n from items) select * from x", 'postgres')).toMatch(/^with/);
  });

  it('SQLite: rows as JSON, capped; writes refused; files outside the allowed directories refused', async () => {
    const creds = { dialect: 'sqlite', database_name: path.join(tmp.dir, 'dbs', 'shop.db') };
    expect(await run(svc, 'sql', { sql_query: "select name from items where name in ('a', 'b') order by id" }, creds)).toEqual({
      output: '[{"name":"a"},{"name":"b"}]',
      isError: false,
    });
    const capped = await run(svc, 'sql', { sql_query: 'select id from items order by id' }, creds);
    expect(capped.output).toBe('[{"id":1},{"id":2},{"id":3}]\n[only the first 3 rows are shown]');
    const write = await run(svc, 'sql', { sql_query: "insert into items (name) values ('x')" }, creds);
    expect(write).toMatchObject({ isError: true, output: expect.stringMatching(/read-only/) });
    // A write that passes the text check is still refused by SQLite's read-only statement check.
    const sneaky = await run(svc, 'sql', { sql_query: "replace into items (id, name) values (1, 'z')" }, creds);
    expect(sneaky.isError).toBe(true);
    const { default: SQLite } = await import('better-sqlite3');
    const db = new SQLite(path.join(tmp.dir, 'dbs', 'shop.db'), { readonly: true });
    expect(db.prepare('select count(*) as n, max(name) as m from items').get()).toEqual({ n: 5, m: 'e' });
    db.close();
    mkdirSync(path.join(tmp.dir, 'platform'));
    writeFileSync(path.join(tmp.dir, 'platform', 'x.db'), '');
    const denied = await run(svc, 'sql', { sql_query: 'select 1' }, { dialect: 'sqlite', database_name: path.join(tmp.dir, 'platform', 'x.db') });
    expect(denied).toMatchObject({ isError: true, output: expect.stringMatching(/not in a directory the SQL toolkit may read/) });
    const none = await run(svc, 'sql', { sql_query: 'select 1' }, null);
    expect(none).toEqual({ output: "SQL configuration is not provided. Please provide in 'Integrations'.", isError: true });
  });

  it('PostgreSQL: rows, cap, writes refused by the check and by the read-only transaction, timeout', async () => {
    expect((await run(svc, 'sql', { sql_query: 'select name from items order by id limit 2' }, pgCreds)).output).toBe('[{"name":"a"},{"name":"b"}]');
    expect((await run(svc, 'sql', { sql_query: 'select id from items order by id' }, pgCreds)).output).toMatch(/\[only the first 3 rows are shown\]$/);
    expect(await run(svc, 'sql', { sql_query: 'update items set name = 1' }, pgCreds)).toMatchObject({
      isError: true,
      output: expect.stringMatching(/read-only/),
    });
    // nextval() writes: the text check lets it through, the READ ONLY transaction does not.
    expect(await run(svc, 'sql', { sql_query: "select nextval('s')" }, pgCreds)).toEqual({
      output: 'Only read-only queries are allowed; the database refused a change',
      isError: true,
    });
    expect(await run(svc, 'sql', { sql_query: 'select pg_sleep(5)' }, pgCreds)).toEqual({ output: 'The query was stopped after 1000 ms', isError: true });
    const { default: pg } = await import('pg');
    const c = new pg.Client({ connectionString: pgDb.url });
    await c.connect();
    expect((await c.query('select count(*)::int as n, last_value, is_called from items, s group by last_value, is_called')).rows[0]).toEqual({
      n: 5,
      last_value: '1',
      is_called: false,
    });
    await c.end();
  });
});

describe('OpenAPI toolkit', () => {
  const tmp = tempDir('codemie-tk-openapi-');
  let server: http.Server;
  let base = '';
  const seen: Array<{ url: string; auth?: string; method: string; body: string }> = [];
  let spec = '';

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', auth: req.headers.authorization, method: req.method ?? '', body });
        if (req.url?.startsWith('/api/pets')) {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ data: { pets: [{ name: 'Rex' }] }, total: 1 }));
        } else if (req.url === '/api/big') res.end('x'.repeat(5000));
        else if (req.url === '/api/slow') setTimeout(() => res.end('late'), 3000);
        else if (req.url === '/api/moved') {
          res.statusCode = 302;
          res.setHeader('location', 'http://example.com/');
          res.end();
        } else {
          res.statusCode = 404;
          res.end('no such thing');
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    spec = JSON.stringify({ openapi: '3.0.0', info: { title: 'Pets', version: '1' }, servers: [{ url: `${base}/api` }], paths: { '/pets': { get: {} } } });
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    tmp.cleanup();
  });

  const svcFor = (hosts: string[]) => service(tmp.dir, { openapi: { allowedHosts: hosts, maxResponseBytes: 1000, maxSpecBytes: 100_000, timeoutMs: 1000 } });

  it('calls an allowed host under the spec servers, with the credentials’ key; filters fields', async () => {
    const svc = svcFor([new URL(base).host]);
    const creds = { spec, api_key: 'k-123' };
    expect((await run(svc, 'open_api_spec', {}, creds)).output).toBe(spec);
    const r = await run(svc, 'open_api', { method: 'get', url: `${base}/api/pets`, fields: '{"limit": "5"}' }, creds);
    expect(r).toEqual({ output: '{"data":{"pets":[{"name":"Rex"}]},"total":1}', isError: false });
    expect(seen.at(-1)).toMatchObject({ url: '/api/pets?limit=5', auth: 'k-123', method: 'GET' });
    const filtered = await run(
      svc,
      'open_api',
      { method: 'POST', url: `${base}/api/pets`, body: '{"name":"Tom"}', filter_fields: 'total' },
      { spec, api_key: 'k', is_basic_auth: true, username: 'me' },
    );
    expect(filtered.output).toBe('{"total":1}');
    expect(seen.at(-1)).toMatchObject({ method: 'POST', body: '{"name":"Tom"}', auth: `Basic ${Buffer.from('me:k').toString('base64')}` });
    const missing = await run(svc, 'open_api', { method: 'GET', url: `${base}/api/nothing` }, creds);
    expect(missing).toEqual({ output: 'HTTP Error 404: the server returned an error: no such thing', isError: true });
  });

  it('refuses hosts off the allow-list, URLs outside the spec servers; limits size and time; no redirects', async () => {
    const count = seen.length;
    const closed = await run(svcFor([]), 'open_api', { method: 'GET', url: `${base}/api/pets` }, { spec });
    expect(closed).toMatchObject({ isError: true, output: expect.stringMatching(/not on the allow-list/) });
    const svc = svcFor([new URL(base).host]);
    const outside = await run(svc, 'open_api', { method: 'GET', url: `${base}/admin` }, { spec });
    expect(outside).toMatchObject({ isError: true, output: expect.stringMatching(/not under a server of the specification/) });
    expect(seen.length).toBe(count);
    const big = await run(svc, 'open_api', { method: 'GET', url: `${base}/api/big` }, { spec });
    expect(big.output).toBe(`${'x'.repeat(1000)}\n[response truncated at 1000 bytes]`);
    const slow = await run(svc, 'open_api', { method: 'GET', url: `${base}/api/slow` }, { spec });
    expect(slow).toMatchObject({ isError: true, output: expect.stringMatching(/^Timeout Error: .* timed out after 1000 ms$/) });
    const moved = await run(svc, 'open_api', { method: 'GET', url: `${base}/api/moved` }, { spec });
    expect(moved).toEqual({ output: 'HTTP 302: redirects are not followed (to http://example.com/)', isError: true });
    expect(await run(svc, 'open_api', { method: 'GET', url: `${base}/api/pets` }, null)).toMatchObject({
      isError: true,
      output: expect.stringMatching(/No OpenAPI specification/),
    });
  });

  it('hostAllowed: exact hosts, ports, wildcard subdomains', () => {
    expect(hostAllowed(new URL('https://api.example.com/x'), ['api.example.com'])).toBe(true);
    expect(hostAllowed(new URL('https://api.example.com:8443/x'), ['api.example.com:443'])).toBe(false);
    expect(hostAllowed(new URL('https://a.b.example.com/'), ['*.example.com'])).toBe(true);
    expect(hostAllowed(new URL('https://example.com/'), ['*.example.com'])).toBe(false);
    expect(hostAllowed(new URL('https://evil-example.com/'), ['*.example.com'])).toBe(false);
  });
});

describe('code executor', () => {
  const tmp = tempDir('codemie-tk-code-');
  const svc = service(tmp.dir);
  let server: http.Server;
  let port = 0;
  beforeAll(async () => {
    server = http.createServer((_req, res) => res.end('reachable'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    tmp.cleanup();
  });

  it('runs Python and returns what it prints; a failing program is an error result', async () => {
    expect(await run(svc, 'code_executor', { code: 'print(sum(range(10)))' })).toEqual({ output: 'stdout:\n45\n', isError: false });
    const failed = await run(svc, 'code_executor', { code: 'raise SystemExit(3)' });
    expect(failed).toEqual({ output: 'The program failed (exit code 3).\n(no output)', isError: true });
    const err = await run(svc, 'code_executor', { code: '1/0' });
    expect(err.output).toMatch(/exit code 1\)[\s\S]*ZeroDivisionError/);
  });

  it('has no network: a server this test reaches is unreachable from the program, and DNS fails', async () => {
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('reachable');
    const code = [
      'import socket',
      'for target in [("127.0.0.1", ' + port + '), ("1.1.1.1", 53)]:',
      '    try:',
      '        socket.create_connection(target, timeout=2)',
      '        print("connected", target)',
      '    except OSError as e:',
      '        print("refused", target[0], e.errno)',
      'try:',
      '    socket.getaddrinfo("example.com", 80)',
      '    print("resolved")',
      'except OSError:',
      '    print("no dns")',
    ].join('\n');
    const r = await run(svc, 'code_executor', { code });
    expect(r.isError).toBe(false);
    expect(r.output).not.toContain('connected');
    expect(r.output).toMatch(/refused 127\.0\.0\.1 \d+/);
    expect(r.output).toMatch(/refused 1\.1\.1\.1 \d+/);
    expect(r.output).toContain('no dns');
  });

  it('limits: wall-clock timeout kills it; memory beyond the limit fails; the scratch directory is gone afterwards', async () => {
    const slow = await run(svc, 'code_executor', { code: 'while True: pass' });
    expect(slow).toMatchObject({ isError: true, output: expect.stringMatching(/^The program was stopped after 3000 ms/) });
    const mem = await run(svc, 'code_executor', { code: 'x = bytearray(1024 * 1024 * 1024)\nprint("allocated")' });
    expect(mem.isError).toBe(true);
    expect(mem.output).toContain('MemoryError');
    const where = await run(svc, 'code_executor', { code: 'import os; print(os.getcwd())' });
    const cwd = where.output.replace('stdout:\n', '').trim();
    expect(cwd.startsWith(path.join(tmp.dir, 'sandbox'))).toBe(true);
    expect(existsSync(cwd)).toBe(false);
  });
});
