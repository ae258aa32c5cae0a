import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, publicBaseUrl } from './config.js';
import { tempDir } from '../../test/helpers.js';

describe('configuration', () => {
  it('uses the documented defaults', () => {
    const cfg = loadConfig({});
    expect(cfg.port).toBe(8080);
    expect(cfg.host).toBe('127.0.0.1');
    expect(cfg.dataDir).toBe(path.resolve('./data'));
    expect(cfg.databaseUrl).toBeUndefined();
    expect(publicBaseUrl(cfg)).toBe('http://127.0.0.1:8080');
  });

  it('reads environment variables', () => {
    const cfg = loadConfig({ PORT: '9090', HOST: '0.0.0.0', CODEMIE_DATA_DIR: '/tmp/x', DATABASE_URL: 'postgres://u@h/db' });
    expect(cfg).toMatchObject({ port: 9090, host: '0.0.0.0', dataDir: '/tmp/x', databaseUrl: 'postgres://u@h/db' });
    expect(publicBaseUrl(cfg)).toBe('http://localhost:9090');
  });

  it('scale-out settings: Redis key prefix and run lease, with defaults and validation', () => {
    expect(loadConfig({})).toMatchObject({ redisPrefix: 'codemie', runLeaseMs: 30_000 });
    expect(loadConfig({ CODEMIE_REDIS_PREFIX: 'staging:eu', CODEMIE_RUN_LEASE_MS: '3000' })).toMatchObject({ redisPrefix: 'staging:eu', runLeaseMs: 3000 });
    expect(() => loadConfig({ CODEMIE_REDIS_PREFIX: 'has space' })).toThrow(/redisPrefix|CODEMIE_REDIS_PREFIX/);
    expect(() => loadConfig({ CODEMIE_RUN_LEASE_MS: '10' })).toThrow(/runLeaseMs|CODEMIE_RUN_LEASE_MS/);
  });

  it('reads an optional YAML file, overridden by the environment', () => {
    const t = tempDir();
    const file = path.join(t.dir, 'codemie.yaml');
    writeFileSync(file, 'PORT: 7000\nlogLevel: debug\ncorsOrigins: [http://a.example, http://b.example]\n');
    const cfg = loadConfig({ CODEMIE_CONFIG: file, LOG_LEVEL: 'warn' });
    expect(cfg.port).toBe(7000);
    expect(cfg.logLevel).toBe('warn');
    expect(cfg.corsOrigins).toEqual(['http://a.example', 'http://b.example']);
    t.cleanup();
  });

  it('names every bad value in one clear error', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain('PORT (port)');
    expect(msg).toContain('"eighty"');
    expect(msg).toContain('DATABASE_URL (databaseUrl): must be a postgres:// or postgresql:// URL');
    expect(msg).toContain('LOG_LEVEL (logLevel)');
  });

  it('rejects unknown keys and a missing or malformed file', () => {
    const t = tempDir();
    const bad = path.join(t.dir, 'bad.yaml');
    writeFileSync(bad, 'prot: 1\n');
    expect(() => loadConfig({ CODEMIE_CONFIG: bad })).toThrow(/unknown setting\(s\) in config file: prot/);
    writeFileSync(bad, 'a: [1,\n');
    expect(() => loadConfig({ CODEMIE_CONFIG: bad })).toThrow(/not valid YAML/);
    expect(() => loadConfig({ CODEMIE_CONFIG: path.join(t.dir, 'none.yaml') })).toThrow(/file not found/);
    t.cleanup();
  });
});
