import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodeMieClient, CodeMieError } from './index.js';
import { insecureFetch } from './tls.js';

/** A self-signed certificate made with the openssl command for this run (skipped where there is none). */
function selfSigned(): { key: string; cert: string } | null {
  const dir = mkdtempSync(join(tmpdir(), 'sdk-tls-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const pem = selfSigned();
let server: Server;
let origin = '';
const seen: { path: string; auth?: string; body: string }[] = [];

beforeAll(async () => {
  if (!pem) return;
  server = createServer(pem, (req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', auth: req.headers.authorization, body });
      res.setHeader('Content-Type', 'application/json');
      if (req.url?.startsWith('/auth/realms/codemie/protocol/openid-connect/token')) {
        res.end(JSON.stringify({ access_token: 'tls-token', expires_in: 300, token_type: 'Bearer' }));
      } else {
        res.end(JSON.stringify([{ base_name: 'gpt-4o', deployment_name: 'gpt-4o', enabled: true }]));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  if (server) {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

describe.skipIf(!pem)('verify_ssl against a self-signed https server', () => {
  it('verify_ssl: false logs in and calls the API over https (undici agent, no global switch)', async () => {
    const before = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    const client = new CodeMieClient({
      codemie_api_domain: `${origin}/code-assistant-api`,
      auth_server_url: `${origin}/auth`,
      auth_realm_name: 'codemie',
      username: 'alice',
      password: 'secret',
      verify_ssl: false,
    });
    const models = await client.llms.list();
    expect(models[0]!.base_name).toBe('gpt-4o');
    expect(seen.map((s) => s.path)).toEqual(['/auth/realms/codemie/protocol/openid-connect/token', '/code-assistant-api/v1/llm_models']);
    expect(seen[1]!.auth).toBe('Bearer tls-token');
    expect(process.env.NODE_TLS_REJECT_UNAUTHORIZED).toBe(before);
  });

  it('verify_ssl: true (the default) refuses the certificate with a CodeMieError', async () => {
    const client = new CodeMieClient({ codemie_api_domain: `${origin}/code-assistant-api`, jwt_token: 't' });
    const err = await client.llms.list().catch((e) => e);
    expect(err).toBeInstanceOf(CodeMieError);
    expect(err.message).toMatch(/fetch failed/);
  });
});

describe('insecureFetch', () => {
  it('uses undici when it can be imported', async () => {
    const r = await insecureFetch();
    expect(r.via).toBe('undici');
  });

  it('falls back to NODE_TLS_REJECT_UNAUTHORIZED=0 with a warning when undici is missing', async () => {
    const before = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    const warnings: string[] = [];
    const onWarning = (w: Error & { code?: string }) => warnings.push(String(w.code));
    process.on('warning', onWarning);
    try {
      delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      const r = await insecureFetch(async () => {
        throw new Error("Cannot find package 'undici'");
      });
      expect(r.via).toBe('env');
      expect(process.env.NODE_TLS_REJECT_UNAUTHORIZED).toBe('0');
      await new Promise((res) => setImmediate(res));
      expect(warnings).toContain('CODEMIE_SDK_INSECURE_TLS');
    } finally {
      process.off('warning', onWarning);
      if (before === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = before;
    }
  });
});
