/**
 * Integrations, webhooks and schedules through real HTTP on both databases: credentials sealed at
 * rest and masked in answers, a signed webhook starting a workflow (and refused when the signature
 * is wrong, replayed, the id unknown or the webhook disabled), rate limiting, bad input refused with
 * nothing stored, and a schedule firing a workflow on one node.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../../test/helpers.js';
import { alice, bob, startWorkflowEnv, type WorkflowEnv } from '../../test/workflows-harness.js';
import { testServiceUrl } from '../../test/services.js';
import { signWebhook, WindowCounter } from './webhooks.js';

const ONE = `
assistants:
  - id: a
    system_prompt: "ROLE one"
states:
  - id: only
    assistant_id: a
    task: "Answer"
    next:
      state_id: end
`;

const SECRET = 'whsec-DO-NOT-LEAK-4f9a1c';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cv = (o: Record<string, unknown>) => Object.entries(o).map(([key, value]) => ({ key, value }));

describe.each(DB_KINDS)('integrations and triggers (%s)', (db) => {
  let env: WorkflowEnv;
  let wf: string;
  const post = (id: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${env.platform.url}/v1/webhooks/${id}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  beforeAll(async () => {
    env = await startWorkflowEnv({
      db,
      env: { WEBHOOK_RATE_LIMIT_MAX_REQUESTS: '8', CODEMIE_SCHEDULE_MIN_INTERVAL_SECONDS: '1', CODEMIE_SECRET_KEY: 'test-secret-key-0123456789' },
    });
    wf = await env.createWorkflow(ONE);
  });
  afterAll(() => env?.close());

  async function webhook(alias: string, values: Record<string, unknown>) {
    const r = await env.api('POST', '/v1/settings/user', { project_name: 'demo', alias, credential_type: 'Webhook', credential_values: cv(values) });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({ message: 'Specified credentials saved' });
    const list = await env.api('GET', `/v1/settings/user?per_page=100`);
    return list.body.data.find((s: any) => s.alias === alias);
  }

  it('stores credentials sealed, answers them masked, keeps them on a masked update', async () => {
    const r = await env.api('POST', '/v1/settings/user', {
      project_name: 'demo',
      alias: 'llm-key',
      credential_type: 'LiteLLM',
      credential_values: cv({ url: 'http://127.0.0.1:1', api_key: 'sk-PLAINTEXT-abc123' }),
    });
    expect(r.status, r.text).toBe(200);
    const list = await env.api('GET', '/v1/settings/user');
    const s = list.body.data.find((x: any) => x.alias === 'llm-key');
    expect(s).toMatchObject({ project_name: 'demo', credential_type: 'LiteLLM', setting_type: 'user', user_id: 'alice', created_by: { id: 'alice' } });
    expect(s.credential_values).toEqual([
      { key: 'url', value: 'http://127.0.0.1:1' },
      { key: 'api_key', value: '**********' },
    ]);
    expect(list.text).not.toContain('sk-PLAINTEXT');
    // The masked value sent back keeps the stored key.
    const u = await env.api('PUT', `/v1/settings/user/${s.id}`, {
      project_name: 'demo',
      alias: 'llm-key',
      credential_type: 'LiteLLM',
      credential_values: s.credential_values,
    });
    expect(u.status, u.text).toBe(200);
    const services = env.platform.services as any;
    const got = await services.integrations.integrations.resolve({
      user: { id: 'alice', projects: ['demo'], isAdmin: false },
      project: 'demo',
      alias: 'llm-key',
    });
    expect(Object.fromEntries(got.values.map((v: any) => [v.key, v.value]))).toEqual({ url: 'http://127.0.0.1:1', api_key: 'sk-PLAINTEXT-abc123' });
    const searched = await env.api('GET', `/v1/settings/user?filters=${encodeURIComponent(JSON.stringify({ search: 'LLM-k' }))}`);
    expect(searched.body.data.map((x: any) => x.alias)).toEqual(['llm-key']);
    const none = await env.api('GET', `/v1/settings/user?filters=${encodeURIComponent(JSON.stringify({ search: 'llm_%' }))}`);
    expect(none.body.data).toEqual([]);
    expect((await env.api('GET', '/v1/settings/user?filters=not-json')).status).toBe(400);
    // Not readable in the database.
    const rows = await env.platform.infra.store.db.selectFrom('integrations').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain('sk-PLAINTEXT');
    if (db === 'sqlite') {
      const files = readdirSync(env.dataDir).filter((f) => /\.(db|sqlite|db-wal)$/.test(f) || f.includes('.db'));
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) expect(readFileSync(path.join(env.dataDir, f)).includes('sk-PLAINTEXT')).toBe(false);
    }
    // Another user neither lists nor changes it.
    expect((await env.api('GET', '/v1/settings/user', undefined, bob)).body.data).toEqual([]);
    const denied = await env.api('DELETE', `/v1/settings/user/${s.id}`, undefined, bob);
    expect(denied.status).toBe(403);
    const missing = await env.api('DELETE', '/v1/settings/user/nope', undefined, alice);
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe('Credential not found');
  });

  it("assistants' per-user tool mappings accept the caller's own integrations only", async () => {
    const a = await env.api('POST', '/v1/assistants', {
      name: 'Mapped',
      description: 'd',
      system_prompt: 's',
      llm_model_type: 'test-model',
      project: 'demo',
      shared: true,
    });
    expect(a.status, a.text).toBe(200);
    const mine = (await env.api('GET', '/v1/settings/user?per_page=100')).body.data.find((s: any) => s.alias === 'llm-key');
    const ok = await env.api('POST', `/v1/assistants/${a.body.assistantId}/users/mapping`, { tools_config: [{ name: 'Git', integration_id: mine.id }] });
    expect(ok.status, ok.text).toBe(200);
    const other = await env.api(
      'POST',
      `/v1/assistants/${a.body.assistantId}/users/mapping`,
      { tools_config: [{ name: 'Git', integration_id: mine.id }] },
      bob,
    );
    expect(other.status).toBe(403);
    expect(other.body.error.message).toBe('Integration is not accessible');
  });

  it('a correctly signed webhook starts the workflow as its owner; wrong, replayed, unknown and disabled are refused', async () => {
    const hook = await webhook('deploy-hook', { webhook_id: `wh-${db}`, is_enabled: true, resource_type: 'workflow', resource_id: wf, webhook_secret: SECRET });
    expect(hook.credential_values.find((v: any) => v.key === 'webhook_secret').value).toBe('**********');
    const body = JSON.stringify({ event: 'push', ref: 'main' });
    const ts = String(Math.floor(Date.now() / 1000));
    const ok = await post(`wh-${db}`, body, { 'x-codemie-timestamp': ts, 'x-codemie-signature': signWebhook(SECRET, ts, body) });
    const okBody = (await ok.json()) as any;
    expect(ok.status, JSON.stringify(okBody)).toBe(200);
    expect(okBody).toMatchObject({ message: 'Webhook invoked successfully', data: { resource_type: 'workflow', resource_id: wf } });
    const exec = await env.waitFor(wf, okBody.data.run_id, ['Succeeded', 'Failed']);
    expect(exec.prompt).toBe(body);
    expect(exec.tags).toEqual(['webhook:deploy-hook']);
    expect(exec.created_by.user_id).toBe('alice');

    // Replay of the same delivery.
    const replay = await post(`wh-${db}`, body, { 'x-codemie-timestamp': ts, 'x-codemie-signature': signWebhook(SECRET, ts, body) });
    expect(replay.status).toBe(401);
    // Wrong secret, tampered body, stale timestamp, no signature.
    const wrong = await post(`wh-${db}`, body, { 'x-codemie-timestamp': ts, 'x-codemie-signature': signWebhook('other', ts, body) });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as any).error.message).toBe('Invalid webhook signature');
    const old = String(Number(ts) - 3600);
    expect((await post(`wh-${db}`, body, { 'x-codemie-timestamp': old, 'x-codemie-signature': signWebhook(SECRET, old, body) })).status).toBe(401);
    expect((await post(`wh-${db}`, body)).status).toBe(401);
    // Unknown id.
    const unknown = await post('no-such-hook', body);
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as any).error.message).toBe("Webhook with ID 'no-such-hook' not found or not enabled");
    // Disabled.
    const u = await env.api('PUT', `/v1/settings/user/${hook.id}`, {
      project_name: 'demo',
      alias: 'deploy-hook',
      credential_type: 'Webhook',
      credential_values: hook.credential_values.map((v: any) => (v.key === 'is_enabled' ? { key: 'is_enabled', value: false } : v)),
    });
    expect(u.status, u.text).toBe(200);
    const ts2 = String(Math.floor(Date.now() / 1000));
    const disabled = await post(`wh-${db}`, body, { 'x-codemie-timestamp': ts2, 'x-codemie-signature': signWebhook(SECRET, ts2, body) });
    expect(disabled.status).toBe(400);
    expect(((await disabled.json()) as any).error.message).toBe(`Webhook with ID 'wh-${db}' not found or not enabled`);
    // Every call is recorded.
    const rec = await env.platform.infra.store.db
      .selectFrom('webhook_invocations')
      .selectAll()
      .where('webhook_id', '=', `wh-${db}`)
      .orderBy('created_at')
      .execute();
    expect(rec.map((r) => [r.status_code, r.error_cause])).toEqual([
      [200, null],
      [401, 'replayed'],
      [401, 'invalid_signature'],
      [401, 'signature_expired'],
      [401, 'signature_missing'],
      [400, 'webhook_disabled'],
    ]);
    expect(rec[0].run_id).toBe(okBody.data.run_id);
    // ...and counted in the analytics: one webhook record per invocation of a known webhook, accepted or not.
    const a = await env.api('GET', '/v1/analytics/webhooks-invocation?time_period=last_hour');
    expect(a.status, a.text).toBe(200);
    expect(a.text).toContain('"webhook_alias":"deploy-hook","total_invocations":6');
  });

  it('GitHub HMAC and the secure header are verified; the rate limit answers 429 with Retry-After', async () => {
    await webhook('gh-hook', { webhook_id: `gh-${db}`, is_enabled: true, resource_type: 'workflow', resource_id: wf, github_webhook_secret: SECRET });
    const body = '{"zen":"hi"}';
    const { createHmac } = await import('node:crypto');
    const sig = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
    expect((await post(`gh-${db}`, body, { 'x-github-event': 'push', 'x-hub-signature-256': sig })).status).toBe(200);
    const bad = await post(`gh-${db}`, body, { 'x-github-event': 'push', 'x-hub-signature-256': 'sha256=00' });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as any).error.message).toBe('Invalid GitHub webhook signature');
    // No GitHub headers at all: still refused (the secret is required).
    expect((await post(`gh-${db}`, body)).status).toBe(401);

    await webhook('hdr-hook', {
      webhook_id: `hdr-${db}`,
      is_enabled: true,
      resource_type: 'workflow',
      resource_id: wf,
      secure_header_name: 'X-Token',
      secure_header_value: 'tok-1',
    });
    const wrongHeader = await post(`hdr-${db}`, body, { 'x-token': 'nope' });
    expect(wrongHeader.status).toBe(401);
    expect(((await wrongHeader.json()) as any).error.message).toBe('Invalid security header');
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 9; i++) {
      const r = await post(`hdr-${db}`, body, { 'x-token': 'tok-1' });
      statuses.push(r.status);
      if (r.status === 429) {
        retryAfter = r.headers.get('retry-after');
        expect(((await r.json()) as any).error.message).toBe('Webhook rate limit exceeded: maximum 8 requests per 60 seconds allowed.');
      }
    }
    // 8 per window: the wrong-header call counted too, so the 8th valid one is refused.
    expect(statuses.filter((s) => s === 200)).toHaveLength(7);
    expect(statuses.slice(-2)).toEqual([429, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
  });

  it('a webhook to an assistant starts a background task with the payload as the message', async () => {
    const a = await env.api('POST', '/v1/assistants', {
      name: 'Hook target',
      description: 'd',
      system_prompt: 'You react.',
      llm_model_type: 'test-model',
      project: 'demo',
    });
    expect(a.status, a.text).toBe(200);
    const assistantId = a.body.assistantId as string;
    await webhook('asst-hook', { webhook_id: `asst-${db}`, is_enabled: true, resource_type: 'assistant', resource_id: assistantId });
    const res = await post(`asst-${db}`, '{"alert":"disk full"}');
    const body = (await res.json()) as any;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.data.resource_type).toBe('assistant');
    let task: any;
    for (let i = 0; i < 300; i++) {
      task = (await env.api('GET', `/v1/tasks/${body.data.run_id}`)).body;
      if (task?.status && task.status !== 'STARTED') break;
      await sleep(20);
    }
    expect(task.status, JSON.stringify(task)).toBe('COMPLETED');
    expect(task.task).toBe('{"alert":"disk full"}');
    expect(task.user.user_id ?? task.user.id).toBe('alice');
  });

  it('GitLab tokens are compared; filtered merge-request actions are acknowledged without a run', async () => {
    await webhook('gl-hook', {
      webhook_id: `gl-${db}`,
      is_enabled: true,
      resource_type: 'workflow',
      resource_id: wf,
      gitlab_webhook_token: 'gl-token',
      gitlab_event_filter: 'open, merge',
    });
    const mr = (action: string) => JSON.stringify({ object_kind: 'merge_request', object_attributes: { action } });
    const hdr = (token: string) => ({ 'x-gitlab-event': 'Merge Request Hook', 'x-gitlab-token': token });
    const bad = await post(`gl-${db}`, mr('open'), hdr('wrong'));
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as any).error.message).toBe('Invalid GitLab webhook token');
    const filtered = await post(`gl-${db}`, mr('close'), hdr('gl-token'));
    expect(filtered.status).toBe(200);
    expect(((await filtered.json()) as any).message).toBe('Webhook received, event filtered out');
    const ok = await post(`gl-${db}`, mr('merge'), hdr('gl-token'));
    const okBody = (await ok.json()) as any;
    expect(ok.status, JSON.stringify(okBody)).toBe(200);
    expect(okBody.data.run_id).toBeTruthy();
    const rec = await env.platform.infra.store.db
      .selectFrom('webhook_invocations')
      .select(['status_code', 'error_cause', 'run_id'])
      .where('webhook_id', '=', `gl-${db}`)
      .orderBy('created_at')
      .execute();
    expect(rec.map((r) => [r.status_code, r.error_cause, !!r.run_id])).toEqual([
      [401, 'gitlab_token_invalid', false],
      [200, 'event_filtered', false],
      [200, null, true],
    ]);
  });

  it('copy-transfer skips triggers; move keeps ids (admins only)', async () => {
    const admin = { id: 'root', username: 'root', isAdmin: true, roles: ['admin'], projects: ['demo'] };
    await env.platform.infra.store.db
      .insertInto('projects')
      .values({
        name: `dest-${db}`,
        name_lower: `dest-${db}`,
        display_name: null,
        description: null,
        project_type: 'shared',
        created_by: null,
        cli_analytics_enabled: null,
        enforce_member_spend_limits: 0,
        created_at: new Date().toISOString(),
        updated_at: new Date().toISOString(),
      })
      .execute();
    const copy = await env.api('POST', '/v1/settings/transfer', { source_project_name: 'demo', target_project_name: `dest-${db}`, mode: 'copy' }, admin);
    expect(copy.status, copy.text).toBe(200);
    expect(copy.body.skipped.map((s: any) => s.credential_type).every((t: string) => t === 'Webhook' || t === 'Scheduler')).toBe(true);
    expect(copy.body.skipped_count).toBeGreaterThan(0);
    expect(copy.body.transferred.map((t: any) => t.alias)).toContain('llm-key');
    // A copy is a new row with its own sealed values; the source is untouched.
    const copies = await env.platform.infra.store.db.selectFrom('integrations').selectAll().where('project_name', '=', `dest-${db}`).execute();
    expect(copies.every((c) => c.webhook_id === null && c.credential_type !== 'Webhook')).toBe(true);
    const again = await env.api('POST', '/v1/settings/transfer', { source_project_name: 'demo', target_project_name: `dest-${db}`, mode: 'copy' }, admin);
    expect(again.status).toBe(409);
    expect(again.body.error.message).toBe('Alias conflict in target project');
    expect((await env.api('POST', '/v1/settings/transfer', { source_project_name: 'demo', target_project_name: 'nowhere', mode: 'move' }, admin)).status).toBe(
      404,
    );
    expect(
      (await env.api('POST', '/v1/settings/transfer', { source_project_name: 'demo', target_project_name: `dest-${db}`, mode: 'move' }, alice)).status,
    ).toBe(403);
  });

  it('refuses bad input with clear messages and stores nothing', async () => {
    const before = await env.platform.infra.store.db.selectFrom('integrations').select('id').execute();
    const sched = (values: Record<string, unknown>, alias = 'bad') =>
      env.api('POST', '/v1/settings/user', { project_name: 'demo', alias, credential_type: 'Scheduler', credential_values: cv(values) });
    const invalid = await sched({ schedule: 'not a cron', is_enabled: true, resource_type: 'workflow', resource_id: wf });
    expect(invalid.status).toBe(422);
    expect(invalid.body.error.message).toBe('Invalid cron expression');
    const tz = await sched({ schedule: '0 9 * * *', timezone: 'Mars/Olympus', is_enabled: true, resource_type: 'workflow', resource_id: wf });
    expect(tz.status).toBe(422);
    expect(tz.body.error.message).toBe('Invalid timezone');
    const target = await sched({ schedule: '0 9 * * *', is_enabled: true, resource_type: 'workflow', resource_id: 'no-such-workflow' });
    expect(target.status).toBe(404);
    expect(target.body.error.message).toBe('Workflow not found');
    const noType = await sched({ schedule: '0 9 * * *', resource_id: wf });
    expect(noType.status).toBe(422);
    expect(noType.body.error.message).toBe('Resource type is missing.');
    const noCron = await sched({ is_enabled: true, resource_type: 'workflow', resource_id: wf });
    expect(noCron.status).toBe(422);
    expect(noCron.body.error.message).toBe('Cron expression is missing.');
    const noId = await env.api('POST', '/v1/settings/user', {
      project_name: 'demo',
      alias: 'h',
      credential_type: 'Webhook',
      credential_values: cv({ is_enabled: true, resource_type: 'workflow', resource_id: wf }),
    });
    expect(noId.status).toBe(422);
    expect(noId.body.error).toMatchObject({
      message: 'Cannot create specified setting',
      details: 'An error occurred while trying to create the setting: Webhook ID must be provided.',
    });
    const dupHook = await env.api('POST', '/v1/settings/user', {
      project_name: 'demo',
      alias: 'h2',
      credential_type: 'Webhook',
      credential_values: cv({ webhook_id: `wh-${db}`, is_enabled: true, resource_type: 'workflow', resource_id: wf }),
    });
    expect(dupHook.status).toBe(422);
    const project = await env.api(
      'POST',
      '/v1/settings/project',
      { project_name: 'demo', alias: 'p', credential_type: 'Jira', credential_values: cv({ url: 'x' }) },
      alice,
    );
    expect(project.status).toBe(403);
    const git = await env.api('POST', '/v1/settings/user', {
      project_name: 'demo',
      alias: 'g',
      credential_type: 'Git',
      credential_values: cv({ url: 'https://git.example.com' }),
    });
    expect(git.status).toBe(422);
    expect(git.body.error.message).toBe("PAT authentication requires 'token'");
    const lite = await env.api('POST', '/v1/settings/user', {
      project_name: 'demo',
      alias: 'l',
      credential_type: 'LiteLLM',
      credential_values: cv({ url: 'x', api_key: '  ' }),
    });
    expect(lite.status).toBe(422);
    expect(lite.body.error.message).toBe('LiteLLM API key cannot be empty');
    const after = await env.platform.infra.store.db.selectFrom('integrations').select('id').execute();
    expect(after.length).toBe(before.length);
  });

  it('a tick runs once however often it is fired, and a late tick is recorded as missed, not run', async () => {
    const r = await env.api('POST', '/v1/settings/user', {
      project_name: 'demo',
      alias: 'hourly',
      credential_type: 'Scheduler',
      credential_values: cv({ schedule: '0 * * * *', is_enabled: true, resource_type: 'workflow', resource_id: wf }),
    });
    expect(r.status, r.text).toBe(200);
    const id = (await env.api('GET', '/v1/settings/user?per_page=100')).body.data.find((s: any) => s.alias === 'hourly').id;
    const scheduler = (env.platform.services as any).triggers.scheduler;
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    expect(await Promise.all([scheduler.fire(id, now), scheduler.fire(id, now), scheduler.fire(id, now)]).then((o) => o.sort())).toEqual([
      'duplicate',
      'duplicate',
      'started',
    ]);
    expect(await scheduler.fire(id, new Date(Date.now() - 10 * 60_000))).toBe('missed');
    const ticks = await env.platform.infra.store.db.selectFrom('schedule_ticks').selectAll().where('integration_id', '=', id).orderBy('tick_at').execute();
    expect(ticks.map((t) => [t.outcome, !!t.run_id])).toEqual([
      ['missed', false],
      ['started', true],
    ]);
    expect((await env.api('DELETE', `/v1/settings/user/${id}`)).status).toBe(200);
  });

  it('a schedule fires its workflow at its ticks, as its owner, tagged with the schedule', async () => {
    const r = await env.api('POST', '/v1/settings/user', {
      project_name: 'demo',
      alias: 'every-2s',
      credential_type: 'Scheduler',
      credential_values: cv({
        schedule: '*/2 * * * * *',
        timezone: 'Europe/Warsaw',
        is_enabled: true,
        resource_type: 'workflow',
        resource_id: wf,
        prompt: 'nightly report',
      }),
    });
    expect(r.status, r.text).toBe(200);
    const id = (await env.api('GET', '/v1/settings/user?per_page=100')).body.data.find((s: any) => s.alias === 'every-2s').id;
    const q = () => env.platform.infra.store.db.selectFrom('schedule_ticks').selectAll().where('integration_id', '=', id).orderBy('tick_at').execute();
    let ticks = await q();
    for (let i = 0; i < 400 && ticks.filter((t) => t.outcome === 'started' && t.run_id).length < 2; i++) {
      await sleep(25);
      ticks = await q();
    }
    const started = ticks.filter((t) => t.outcome === 'started' && t.run_id);
    expect(started.length).toBeGreaterThanOrEqual(2);
    for (const t of started) {
      expect(new Date(t.tick_at).getUTCSeconds() % 2).toBe(0);
      expect(new Date(t.tick_at).getUTCMilliseconds()).toBe(0);
      const exec = await env.waitFor(wf, t.run_id!, ['Succeeded', 'Failed']);
      expect(exec.prompt).toBe('nightly report');
      expect(exec.tags).toEqual(['schedule:every-2s']);
      expect(exec.created_by.user_id).toBe('alice');
    }
    // Deleted: no further ticks.
    expect((await env.api('DELETE', `/v1/settings/user/${id}`)).status).toBe(200);
    await (env.platform.services as any).triggers.scheduler.sync();
    const count = (await q()).length;
    await sleep(2500);
    expect((await q()).length).toBeLessThanOrEqual(count + 1);
  });
});

describe('webhook rate limit and replay memory on Redis (shared by every process)', () => {
  const url = testServiceUrl('redis');
  it.skipIf(!url)('counts per window and remembers signatures once', async () => {
    const { Redis } = await import('ioredis');
    const redis = new Redis(url!);
    const ns = `wh-test-${Date.now()}`;
    try {
      const a = new WindowCounter(redis, ns);
      const b = new WindowCounter(redis, ns); // another process
      expect((await a.hit('w', 2, 60))[0]).toBe(true);
      expect((await b.hit('w', 2, 60))[0]).toBe(true);
      const [allowed, retry] = await a.hit('w', 2, 60);
      expect(allowed).toBe(false);
      expect(retry).toBeGreaterThan(0);
      expect(await redis.ttl(`${ns}:w`)).toBeGreaterThan(0);
      expect(await a.first('sig', 60)).toBe(true);
      expect(await b.first('sig', 60)).toBe(false);
    } finally {
      const keys = await redis.keys(`${ns}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    }
  });
});
