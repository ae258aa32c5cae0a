/**
 * `codemie login | token | assistants | workflows | executions` — the BUILT CLI against a REAL server
 * process whose models answer from the scripted test LLM server (build first:
 * `npx tsc -b packages/server packages/sdk packages/cli packages/local-llm`).
 * The CLI is spawned asynchronously: the test LLM server lives in this process and must keep answering.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../server/test/helpers.js';
import { startServerProcess, type ServerProcess } from '../../server/test/process.js';
import { startTestLlmServer, writeTestModelsFile, type TestLlmServer } from '../../server/test/llm-server.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.resolve(here, '../dist/index.js');
const examples = path.resolve(here, '../../../examples/workflows');
const ADMIN_PASSWORD = 'cli-admin-PASSWORD-4242';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout as it arrived, chunk by chunk */
  chunks: string[];
}

describe('codemie against a running server', () => {
  const tmp = tempDir('codemie-cli-');
  const home = path.join(tmp.dir, 'home');
  let llm: TestLlmServer;
  let srv: ServerProcess;

  function codemie(args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}): Promise<Result> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [cli, ...args], {
        env: { ...process.env, CODEMIE_HOME: home, NO_COLOR: '1', ...opts.env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const chunks: string[] = [];
      let stderr = '';
      child.stdout.on('data', (d) => chunks.push(String(d)));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout: chunks.join(''), stderr, chunks }));
      child.stdin.end(opts.stdin ?? '');
    });
  }

  beforeAll(async () => {
    if (!existsSync(cli)) throw new Error(`build the CLI first (npx tsc -b packages/cli): ${cli} is missing`);
    llm = await startTestLlmServer();
    const models = writeTestModelsFile(llm, tmp.dir);
    srv = await startServerProcess({
      ...models.env,
      CODEMIE_DATA_DIR: tmp.dir,
      CODEMIE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      CODEMIE_SCRYPT_N: '1024',
    });
  });
  afterAll(async () => {
    await srv?.stop('SIGKILL');
    await llm?.close();
    tmp.cleanup();
  });

  it('without a login: a clear error', async () => {
    const r = await codemie(['assistants', 'list']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('error: not logged in: run codemie login');
  });

  it('bad credentials: a clear error, nothing stored, the password never printed', async () => {
    const r = await codemie(['login', '--server', srv.url, '--username', 'admin', '--password-stdin'], { stdin: 'wrong-PASSWORD-x\n' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: login failed: .*invalid user credentials/i);
    expect(r.stderr + r.stdout).not.toContain('wrong-PASSWORD-x');
    expect(existsSync(path.join(home, 'profiles.json'))).toBe(false);
  });

  it('bad usage exits 2', async () => {
    const r = await codemie(['login', '--server', srv.url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: give --username');
    const unknown = await codemie(['assistants', 'list', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--bogus'");
  });

  it('login stores a 0600 profile without the password; token prints a valid access token', async () => {
    const r = await codemie(['login', '--server', srv.url, '--username', 'admin', '--password-stdin'], { stdin: `${ADMIN_PASSWORD}\n` });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`logged in to ${srv.url} as admin`);
    const file = path.join(home, 'profiles.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const stored = readFileSync(file, 'utf8');
    expect(stored).not.toContain(ADMIN_PASSWORD);
    const profile = JSON.parse(stored).profiles.default;
    expect(profile).toMatchObject({ server: srv.url, authUrl: `${srv.url}/auth`, realm: 'codemie', clientId: 'codemie-sdk', username: 'admin' });
    expect(profile.refreshToken).toBeTruthy();

    const t = await codemie(['token']);
    expect(t.code).toBe(0);
    const token = t.stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    const me = await fetch(`${srv.url}/v1/user`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);

    // an expired cached token is renewed with the refresh token
    const data = JSON.parse(readFileSync(file, 'utf8'));
    data.profiles.default.accessRenewAt = 0;
    writeFileSync(file, JSON.stringify(data));
    const t2 = await codemie(['token', '--json']);
    expect(t2.code).toBe(0);
    const renewed = JSON.parse(t2.stdout);
    expect(renewed.access_token).not.toBe(token);
    expect(Date.parse(renewed.expires_at)).toBeGreaterThan(Date.now());
    expect((await fetch(`${srv.url}/v1/user`, { headers: { authorization: `Bearer ${renewed.access_token}` } })).status).toBe(200);
  });

  it('login with a client secret (client_credentials) into a second profile', async () => {
    const add = await codemie(['idp', '--json', 'client', 'add', 'cli-bot', '--secret', '--projects', 'demo'], {
      env: { CODEMIE_DATA_DIR: tmp.dir, CODEMIE_SCRYPT_N: '1024', LOG_LEVEL: 'silent' },
    });
    expect(add.code).toBe(0);
    const secret = JSON.parse(add.stdout).client_secret as string;
    const bad = await codemie(['login', '--server', srv.url, '--client-id', 'cli-bot', '--client-secret', 'wrong', '--profile', 'bot']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: login failed: /);
    const r = await codemie(['login', '--server', srv.url, '--client-id', 'cli-bot', '--client-secret', secret, '--profile', 'bot']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain(secret);
    expect(r.stdout).toContain('as client cli-bot (profile "bot"');
    const t = await codemie(['token', '--profile', 'bot']);
    expect(t.code).toBe(0);
    const me = await (await fetch(`${srv.url}/v1/user`, { headers: { authorization: `Bearer ${t.stdout.trim()}` } })).json();
    expect(JSON.stringify(me)).toContain('cli-bot');
    // the last login became the default profile: go back to admin's
    const data = JSON.parse(readFileSync(path.join(home, 'profiles.json'), 'utf8'));
    expect(data.current).toBe('bot');
    data.current = 'default';
    writeFileSync(path.join(home, 'profiles.json'), JSON.stringify(data), { mode: 0o600 });
    const missing = await codemie(['token', '--profile', 'nobody']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('error: no profile "nobody": run codemie login --profile nobody');
  });

  let assistantId = '';
  it('assistants create / list / chat (streamed as tokens arrive)', async () => {
    const c = await codemie(['assistants', 'create', '--name', 'CLI helper', '--system-prompt', 'You help.', '--model', 'test-model']);
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
    assistantId = c.stdout.trim();
    expect(assistantId).toMatch(/^[0-9a-f-]{36}$/);

    const l = await codemie(['assistants', 'list']);
    expect(l.code).toBe(0);
    const lines = l.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+PROJECT\s+MODEL$/);
    expect(lines.find((x) => x.startsWith(assistantId))).toMatch(/CLI helper\s+demo\s+test-model/);
    const lj = await codemie(['assistants', 'list', '--json']);
    expect(JSON.parse(lj.stdout).map((a: { id: string }) => a.id)).toContain(assistantId);

    llm.script({ text: 'The scripted answer arrives word by word', delayMs: 40 });
    const chat = await codemie(['assistants', 'chat', assistantId, 'Hello there']);
    expect(chat.stderr).toBe('');
    expect(chat.code).toBe(0);
    expect(chat.stdout).toBe('The scripted answer arrives word by word\n');
    expect(chat.chunks.length).toBeGreaterThan(2); // printed as it came, not at the end

    llm.script({ text: 'Whole answer' });
    const whole = await codemie(['assistants', 'chat', assistantId, 'Again', '--no-stream', '--json']);
    expect(whole.code).toBe(0);
    expect(JSON.parse(whole.stdout).generated).toBe('Whole answer');

    llm.script({ status: 400, error: 'this model refuses' });
    const failed = await codemie(['assistants', 'chat', assistantId, 'Fail please']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^error: .+\n$/);
    expect(failed.stdout).toBe('');

    const missing = await codemie(['assistants', 'chat', '00000000-0000-0000-0000-000000000000', 'hi']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^error: .+\n$/);
  });

  let workflowId = '';
  it('workflows create -f / list / run: progress per state, the output, exit 0', async () => {
    const bad = await codemie(['workflows', 'create', '-f', path.join(tmp.dir, 'nope.yaml'), '--name', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error: cannot read');

    const c = await codemie(['workflows', 'create', '-f', path.join(examples, 'sequential.yaml'), '--name', 'Slogans']);
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
    workflowId = c.stdout.trim();
    expect(workflowId).toMatch(/^[0-9a-f-]{36}$/);
    const l = await codemie(['workflows', 'list']);
    expect(l.stdout).toMatch(new RegExp(`${workflowId}\\s+Slogans\\s+demo`));

    llm.script({ text: 'Draft: bikes are fun' }, { text: 'Final: bikes are freedom' });
    const r = await codemie(['workflows', 'run', workflowId, '--input', 'topic: bikes', '--tag', 'cli']);
    expect(r.stderr + `exit ${r.code}`).toMatch(/exit 0$/);
    expect(r.stdout.trim()).toBe('Final: bikes are freedom');
    const progress = r.stderr.split('\n');
    const idx = (line: string) => progress.indexOf(line);
    expect(idx('▶ state draft started')).toBeGreaterThanOrEqual(0);
    expect(idx('✔ state draft finished: Succeeded')).toBeGreaterThan(idx('▶ state draft started'));
    expect(idx('▶ state review started')).toBeGreaterThan(idx('✔ state draft finished: Succeeded'));
    expect(idx('✔ state review finished: Succeeded')).toBeGreaterThan(idx('▶ state review started'));
    const execId = /execution (\S+) started/.exec(r.stderr)![1]!;

    const g = await codemie(['executions', 'get', workflowId, execId, '--json']);
    expect(g.code).toBe(0);
    const rec = JSON.parse(g.stdout);
    expect(rec).toMatchObject({ execution_id: execId, overall_status: 'Succeeded', output: 'Final: bikes are freedom' });
    expect(rec.states.map((s: { name: string }) => s.name).sort()).toEqual(['draft', 'review']);
    const human = await codemie(['executions', 'get', workflowId, execId]);
    expect(human.stdout).toContain(`execution ${execId}: Succeeded`);
  });

  it('a failing workflow exits 1 with the reason', async () => {
    llm.script({ status: 400, error: 'model refuses this prompt' });
    const r = await codemie(['workflows', 'run', workflowId, '--input', 'topic: trouble']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/✖ state draft finished: Failed/);
    expect(r.stderr).toMatch(/error: execution failed: .+/);
    expect(r.stdout).toBe('');
  });

  it('an interrupted run exits 4 and tells how to resume; executions resume follows it to the end', async () => {
    const c = await codemie(['workflows', 'create', '-f', path.join(examples, 'human-approval.yaml'), '--name', 'Approval', '--json']);
    expect(c.code).toBe(0);
    const wf = JSON.parse(c.stdout).id as string;
    llm.script({ text: 'Draft announcement' });
    const r = await codemie(['workflows', 'run', wf]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('✔ state draft finished: Succeeded');
    const execId = /execution (\S+) started/.exec(r.stderr)![1]!;
    expect(r.stderr).toContain(`codemie executions resume ${wf} ${execId}`);

    llm.script({ text: 'Published!' });
    const res = await codemie(['executions', 'resume', wf, execId, '--input', 'looks good']);
    expect(res.stderr + `exit ${res.code}`).toMatch(/exit 0$/);
    expect(res.stderr).toContain('✔ state publish finished: Succeeded');
    expect(res.stderr).not.toContain('state draft'); // already reported by the run
    expect(res.stdout.trim()).toBe('Published!');
  });

  it('executions abort: a running execution ends Aborted (exit 1 for its follower)', async () => {
    llm.script({ text: 'slow draft', firstTokenDelayMs: 4000 });
    const run = codemie(['workflows', 'run', workflowId, '--input', 'topic: slow']);
    let execId = '';
    for (let i = 0; i < 50 && !execId; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const tok = JSON.parse(readFileSync(path.join(home, 'profiles.json'), 'utf8')).profiles.default.accessToken;
      const page = await (await fetch(`${srv.url}/v1/workflows/${workflowId}/executions`, { headers: { authorization: `Bearer ${tok}` } })).json();
      execId = (page.data as Array<{ execution_id: string; overall_status: string }>).find((e) => e.overall_status === 'In Progress')?.execution_id ?? '';
    }
    expect(execId).not.toBe('');
    const a = await codemie(['executions', 'abort', workflowId, execId]);
    expect(a.code).toBe(0);
    const r = await run;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: execution aborted');
  });

  it('executions of unknown ids: exit 3', async () => {
    const r = await codemie(['executions', 'abort', workflowId, '00000000-0000-0000-0000-000000000000']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^error: /);
  });

  it('a token the server rejects: the login hint', async () => {
    const file = path.join(home, 'profiles.json');
    const data = JSON.parse(readFileSync(file, 'utf8'));
    data.profiles.default.accessToken = 'not-a-valid-token';
    data.profiles.default.accessRenewAt = Date.now() + 3_600_000;
    writeFileSync(file, JSON.stringify(data), { mode: 0o600 });
    const r = await codemie(['workflows', 'list']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('error: not logged in or token expired: run codemie login');

    // an expired access token whose refresh token is refused
    data.profiles.default.accessRenewAt = 0;
    data.profiles.default.refreshToken = 'revoked-refresh-token';
    writeFileSync(file, JSON.stringify(data), { mode: 0o600 });
    const t = await codemie(['token']);
    expect(t.code).toBe(1);
    expect(t.stderr.trim()).toBe('error: not logged in or token expired: run codemie login');
    expect(t.stdout).toBe('');
  });
});
