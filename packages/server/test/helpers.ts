/** Shared test utilities: temp dirs, fresh databases, and platforms started the way users start them. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../src/config/config.js';
import { createPlatform, type Platform, type PlatformOptions } from '../src/platform.js';
import type { Route } from '../src/api/route.js';
import type { Module } from '../src/module.js';

export function tempDir(prefix = 'codemie-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function requirePostgresUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    throw new Error('TEST_DATABASE_URL is not set: run the suite with `npm test` (it starts PostgreSQL) or start it with scripts/services.sh start postgres');
  }
  return url;
}

/** Creates an empty database on the test PostgreSQL server; drop() removes it. */
export async function freshPostgres(): Promise<{ url: string; drop: () => Promise<void> }> {
  const adminUrl = requirePostgresUrl();
  const { default: pg } = await import('pg');
  const name = `codemie_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** Password of the bootstrap `admin` user in test platforms (override with env CODEMIE_ADMIN_PASSWORD). */
export const TEST_ADMIN_PASSWORD = 'admin-test-password';

export type DbKind = 'sqlite' | 'postgres';
export const DB_KINDS: DbKind[] = ['sqlite', 'postgres'];

export interface TestPlatform extends Platform {
  config: Config;
  /** Base URL when started with listen: true. */
  url: string;
  stop(): Promise<void>;
}

export async function startTestPlatform(
  opts: PlatformOptions & {
    db?: DbKind;
    listen?: boolean;
    env?: Record<string, string>;
    config?: Partial<Config>;
    /** Use testAuthenticator instead of the configured identity provider. */
    testAuth?: boolean;
  } = {},
): Promise<TestPlatform> {
  const tmp = tempDir();
  let pgDb: { url: string; drop: () => Promise<void> } | undefined;
  if (opts.db === 'postgres') pgDb = await freshPostgres();
  const config = loadConfig(
    {
      CODEMIE_DATA_DIR: tmp.dir,
      PORT: '0',
      LOG_LEVEL: 'silent',
      // Cheap password hashing and a known admin password (no generated one printed) in tests.
      CODEMIE_SCRYPT_N: '1024',
      // The embedded local model is off unless a suite turns it on (it needs the GGUF file).
      CODEMIE_LOCAL_MODEL: 'off',
      // Likewise the local embeddings model (its ONNX file): knowledge-base suites turn it on.
      CODEMIE_LOCAL_EMBEDDING_MODEL: 'off',
      CODEMIE_SEED_DEMO: 'false',
      CODEMIE_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
      // Lag-based load shedding off (as vitest.config.ts sets for spawned servers): this platform
      // shares its event loop with the test itself, on a machine shared with other test files.
      CODEMIE_MAX_EVENT_LOOP_DELAY_MS: '0',
      ...(pgDb ? { DATABASE_URL: pgDb.url } : {}),
      ...opts.env,
    },
    opts.config ?? {},
  );
  const platform = await createPlatform(config, { logger: false, ...opts });
  if (opts.testAuth) platform.useAuthenticator(testAuthenticator);
  let url = '';
  if (opts.listen) url = await platform.listen();
  return {
    ...platform,
    config,
    url,
    async stop() {
      await platform.close();
      await pgDb?.drop();
      tmp.cleanup();
    },
  };
}

/**
 * Test-only authenticator for domain suites that run before/without the identity
 * provider: `Authorization: Bearer test.<base64url JSON of Partial<AuthUser>>`.
 * Lives under test/, never in the product. End-to-end suites use real tokens.
 */
import type { AuthUser, Authenticator } from '../src/api/auth.js';
import { unauthorized } from '../src/api/errors.js';

export const testAuthenticator: Authenticator = {
  async authenticate(req) {
    const h = req.headers.authorization ?? '';
    const m = /^Bearer test\.([A-Za-z0-9_-]+)$/.exec(h);
    if (!m) throw unauthorized();
    const u = JSON.parse(Buffer.from(m[1], 'base64url').toString('utf8')) as Partial<AuthUser>;
    return {
      id: u.id ?? u.username ?? 'user-1',
      username: u.username ?? u.id ?? 'user-1',
      name: u.name ?? u.username ?? 'User',
      email: u.email ?? `${u.username ?? 'user'}@example.com`,
      roles: u.roles ?? ['developer'],
      projects: u.projects ?? ['demo'],
      adminProjects: u.adminProjects ?? [],
      isAdmin: u.isAdmin ?? (u.roles ?? []).includes('admin'),
      userType: u.userType ?? 'regular',
    };
  },
};

/** Headers that authenticate as the given user with testAuthenticator. */
export function testAuthHeaders(user: Partial<AuthUser>): Record<string, string> {
  return { authorization: `Bearer test.${Buffer.from(JSON.stringify(user)).toString('base64url')}` };
}

/** Extra routes as a module (test probes): `startTestPlatform({ extraModules: probeModule([...]) })`. */
export function probeModule(routes: Route[]): () => Module[] {
  return () => [{ name: 'probe', services: null, routes }];
}
