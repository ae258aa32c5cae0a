/** Logins through the embedded IdP (token endpoint and local-auth) are audited, without secrets. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../../test/helpers.js';
import { adminToken, authHeaders, createClient, createUser } from '../../test/identity-helpers.js';

let p: TestPlatform;
beforeAll(async () => {
  p = await startTestPlatform({ listen: true });
  await createUser(p, { username: 'carol', password: 'carol-pass-123', projects: ['demo'] });
});
afterAll(() => p.stop());

const tokenUrl = () => `${p.url}/auth/realms/codemie/protocol/openid-connect/token`;

describe('login audit', () => {
  it('records failed and successful logins with grant and client, never the password', async () => {
    const bad = await fetch(tokenUrl(), {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', client_id: 'codemie-sdk', username: 'carol', password: 'wrong-guess-999' }),
    });
    expect(bad.status).toBe(401);
    const good = await fetch(tokenUrl(), {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', client_id: 'codemie-sdk', username: 'carol', password: 'carol-pass-123' }),
    });
    expect(good.status).toBe(200);
    const local = await fetch(`${p.url}/v1/local-auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'carol', password: 'nope-nope-nope' }),
    });
    expect(local.status).toBe(401);
    await p.infra.audit.flush();
    const res = await fetch(`${p.url}/v1/admin/audit?per_page=100`, { headers: authHeaders(await adminToken(p)) });
    const entries = ((await res.json()) as { data: { event: string; username: string; client_id: string; details: Record<string, unknown> }[] }).data;
    const carol = entries.filter((e) => e.username === 'carol' && e.event.startsWith('login.'));
    expect(carol.map((e) => e.event).sort()).toEqual(['login.failed', 'login.failed', 'login.succeeded']);
    expect(carol.find((e) => e.event === 'login.succeeded')).toMatchObject({ client_id: 'codemie-sdk', details: { grant_type: 'password' } });
    expect(JSON.stringify(entries)).not.toMatch(/wrong-guess-999|carol-pass-123|nope-nope-nope/);
  });

  it('records client and secret changes (never the secret itself)', async () => {
    const secret = await createClient(p, { clientId: 'ci-bot', roles: ['developer'], projects: ['demo'] });
    const rotated = await p.services.identity.admin.rotateClientSecret('ci-bot');
    await p.services.identity.admin.removeClient('ci-bot');
    await p.infra.audit.flush();
    const res = await fetch(`${p.url}/v1/admin/audit?per_page=100`, { headers: authHeaders(await adminToken(p)) });
    const entries = ((await res.json()) as { data: { event: string; client_id: string | null }[] }).data;
    const events = entries.filter((e) => e.client_id === 'ci-bot').map((e) => e.event);
    expect(events.sort()).toEqual(['client.created', 'client.removed', 'client.secret_rotated']);
    const all = JSON.stringify(entries);
    expect(all).not.toContain(secret);
    expect(all).not.toContain(rotated.secret);
  });
});
