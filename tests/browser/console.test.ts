/**
 * The web console in a real browser: Debian's Chromium driven by playwright-core against a started
 * server (the built console, the embedded IdP, the scripted test LLM). Sign in through the login
 * page (authorization code + PKCE), a streamed chat answer, a workflow written in the editor
 * (validated as typed), run, watched, interrupted and continued, the usage analytics and activity log, phone width,
 * sign out. Screenshots go to test-artifacts/console/ (gitignored); with
 * CODEMIE_UPDATE_SCREENSHOT=1 the chat and workflow screenshots also replace docs/images/console.png and
 * docs/images/console-workflow.png (the README's).
 *
 * Chromium: CHROMIUM_PATH, else /usr/bin/chromium (`apt-get install chromium`; .ci/run installs it).
 * Without it the suite fails (never skips).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../packages/server/test/helpers.js';
import { startServerProcess, type ServerProcess } from '../../packages/server/test/process.js';
import { startTestLlmServer, writeTestModelsFile, type TestLlmServer } from '../../packages/server/test/llm-server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const artifacts = path.join(root, 'test-artifacts', 'console');
const PASSWORD = 'console-test-pass-1';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const WORKFLOW_BAD = `assistants:
  - id: writer
    system_prompt: You write one line.
states:
  - id: draft
    assistant_id: writer
    task: "Draft: {{user_input}}"
    next:
      state_id: nowhere
`;

const WORKFLOW = `assistants:
  - id: writer
    system_prompt: You write one line.
states:
  - id: draft
    assistant_id: writer
    task: "Draft: {{user_input}}"
    next:
      state_id: publish
      output_key: draft
  - id: publish
    assistant_id: writer
    interrupt_before: true
    task: "Publish: {{draft}}"
    next:
      state_id: end
`;

describe('web console in Chromium', () => {
  const tmp = tempDir();
  let llm: TestLlmServer;
  let srv: ServerProcess;
  let browser: Browser;
  let page: Page;
  const shot = (name: string) => page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    if (!existsSync(chromiumPath)) {
      throw new Error(`Chromium not found at ${chromiumPath}: install it (apt-get install -y chromium) or set CHROMIUM_PATH.`);
    }
    mkdirSync(artifacts, { recursive: true });
    // The console as `npm start` builds it (into a directory of this test's own: other suites may run `npm start`).
    const dist = path.join(tmp.dir, 'web');
    const build = spawnSync(
      process.execPath,
      [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn', '--outDir', dist, '--emptyOutDir'],
      {
        cwd: path.join(root, 'packages/web'),
        encoding: 'utf8',
      },
    );
    if (build.status !== 0) throw new Error(`vite build failed:\n${build.stdout}\n${build.stderr}`);
    llm = await startTestLlmServer();
    const { env } = writeTestModelsFile(llm, tmp.dir);
    srv = await startServerProcess({
      ...env,
      CODEMIE_DATA_DIR: tmp.dir,
      CODEMIE_SEED_DEMO: 'true',
      CODEMIE_ADMIN_PASSWORD: PASSWORD,
      CODEMIE_SCRYPT_N: '1024',
      CODEMIE_CONSOLE_DIR: dist,
      // Short-lived access tokens: the console refreshes them (5 s after sign-in at this TTL).
      CODEMIE_ACCESS_TOKEN_TTL: '30',
    });
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.setDefaultTimeout(30_000); // generous: CI shares two cores among suites
    page.on('console', (m) => m.type() === 'error' && browserErrors.push(m.text()));
    page.on('pageerror', (e) => browserErrors.push(e.message));
  }, 120_000);

  // A failed step leaves a screenshot and what the page logged.
  const browserErrors: string[] = [];
  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail' || !page) return;
    await page
      .screenshot({ path: path.join(artifacts, `failed-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}.png`), fullPage: true })
      .catch(() => undefined);
    if (browserErrors.length) console.error(`browser errors:\n${browserErrors.join('\n')}`);
  });

  afterAll(async () => {
    await browser?.close();
    await srv?.stop('SIGKILL');
    await llm?.close();
    tmp.cleanup();
  });

  it('signs in on the login page (authorization code + PKCE): a wrong password is refused, the right one lands in the chat', async () => {
    await page.goto(srv.url);
    await page.waitForURL(/\/protocol\/openid-connect\/auth\?/);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('Invalid username or password');
    await page.getByLabel('Password').fill(PASSWORD);
    const refreshed = page.waitForResponse(
      (r) => r.url().endsWith('/protocol/openid-connect/token') && (r.request().postData() ?? '').includes('grant_type=refresh_token'),
      { timeout: 60_000 },
    );
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    expect(new URL(page.url()).search).toBe(''); // the code left the address bar
    await expect(page.locator('.who').textContent()).resolves.toBe('admin');
    await shot('01-signed-in');
    // The access token (30 s here) is refreshed before it expires, with the refresh token.
    expect((await refreshed).status()).toBe(200);
  });

  it('chats with the demo assistant: the answer streams in, the conversation continues', async () => {
    await expect(page.getByLabel('Assistant').inputValue()).resolves.not.toBe('');
    await expect(page.locator('#assistant option:checked').textContent()).resolves.toBe('Hello');
    llm.script({ chunks: ['Hello ', 'from ', 'a ', 'streamed ', 'answer.'], delayMs: 250 });
    await page.getByLabel('Message').fill('Say hello');
    await page.getByRole('button', { name: 'Send' }).click();
    // While it streams: part of the answer is shown and Stop is offered.
    const streaming = page.locator('.msg.assistant[data-streaming="true"] .text', { hasText: 'Hello' });
    await streaming.waitFor();
    expect(await streaming.textContent()).not.toContain('answer.');
    await page.getByRole('button', { name: 'Stop' }).waitFor();
    await page.locator('.msg.assistant:not([data-streaming]) .text', { hasText: 'Hello from a streamed answer.' }).waitFor();
    await shot('02-chat');
    if (process.env.CODEMIE_UPDATE_SCREENSHOT === '1') copyFileSync(path.join(artifacts, '02-chat.png'), path.join(root, 'docs/images/console.png'));

    // Second turn in the same conversation: the model sees the first exchange.
    llm.script({ text: 'Second answer.' });
    await page.getByLabel('Message').fill('And again');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('.msg.assistant:not([data-streaming]) .text', { hasText: 'Second answer.' }).waitFor();
    const sent = llm.requests
      .at(-1)!
      .messages.map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content)))
      .join('\n');
    expect(sent).toContain('Say hello');
    expect(sent).toContain('Hello from a streamed answer.');
    await page.getByRole('list', { name: 'Conversations' }).getByRole('button').first().waitFor();

    // Stop: the generation is aborted up to the model.
    llm.script({ chunks: ['Partial ', 'answer ', 'never ', 'finished.'], delayMs: 2000 });
    await page.getByLabel('Message').fill('Tell a long story');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('.msg.assistant[data-streaming="true"] .text', { hasText: 'Partial' }).waitFor();
    const atModel = llm.chatRequests().at(-1)!;
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.locator('.msg.assistant .error', { hasText: 'Stopped.' }).waitFor();
    await atModel.done;
    expect(atModel.clientClosed).toBe(true);
    await page.getByRole('button', { name: 'Send' }).waitFor();
  });

  it('creates an assistant with a sub-assistant; in the chat its tool call shows as a thought, then the answer', async () => {
    await page.getByRole('link', { name: 'Assistants' }).click();
    await page.getByRole('button', { name: 'New assistant' }).click();
    await page.getByLabel('Name').fill('Router');
    await page.getByLabel('System prompt').fill('Delegate greetings to Hello.');
    await page.getByLabel('Sub-assistants').selectOption({ label: 'Hello' });
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Assistant created.' }).waitFor();
    await page
      .getByRole('list', { name: 'Assistants' })
      .getByRole('button', { name: /Router/ })
      .waitFor();

    await page.getByRole('link', { name: 'Chat' }).click();
    await page.getByLabel('Assistant').selectOption({ label: 'Router' });
    llm.script(
      (req) => (req.tools.length ? { toolCalls: [{ name: req.tools[0]!.function.name, arguments: { task: 'Greet the user' } }] } : undefined),
      { text: 'Hi from the sub-assistant.' },
      { text: 'Router done: the sub-assistant said hi.', chunks: ['Router done: ', 'the sub-assistant said hi.'], delayMs: 300 },
    );
    await page.getByLabel('Message').fill('Greet me');
    await page.getByRole('button', { name: 'Send' }).click();
    const thought = page.locator('.msg.assistant details.thought', { hasText: 'Hello' }).first();
    await thought.waitFor();
    await page.locator('.msg.assistant:not([data-streaming]) .text', { hasText: 'Router done: the sub-assistant said hi.' }).waitFor();
    expect(await page.locator('.msg.assistant details.thought').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining('Hi from the sub-assistant.')]),
    );
    await shot('02b-sub-assistant');
  });

  it('writes a workflow (validated as typed, the error at its line), runs it, answers the interrupt, watches it finish', async () => {
    await page.getByRole('link', { name: 'Workflows' }).click();
    await page.getByRole('button', { name: 'New workflow' }).click();
    await page.getByLabel('Name').fill('Browser workflow');
    await page.getByLabel('YAML').fill(WORKFLOW_BAD);
    const validation = page.getByTestId('validation');
    await validation.filter({ hasText: 'nowhere' }).waitFor();
    expect(await validation.textContent()).toMatch(/line \d+/);
    await page.locator('.gutter .bad').waitFor(); // the line is marked in the gutter
    await page.getByLabel('YAML').fill(WORKFLOW);
    await validation.filter({ hasText: 'Valid: 2 states' }).waitFor();
    await page.locator('svg[aria-label="Workflow graph"] g[data-state="publish"]').waitFor();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();

    await page.getByLabel('Input').fill('the release notes');
    await page.getByLabel('Tags (comma-separated)').fill('browser, e2e');
    await page.getByRole('button', { name: 'Run' }).click();
    await page.getByTestId('execution-status').filter({ hasText: 'Interrupted' }).waitFor();
    await page.locator('g[data-state="draft"][data-status="Succeeded"]').waitFor();
    await page.locator('g[data-state="publish"][data-status="Interrupted"]').waitFor();
    await shot('03-workflow-interrupted');
    await page.getByLabel('Your answer (optional)').fill('go ahead');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByTestId('execution-status').filter({ hasText: 'Succeeded' }).waitFor();
    await page.locator('g[data-state="publish"][data-status="Succeeded"]').waitFor();
    await expect(page.getByTestId('execution-output').textContent()).resolves.toContain('Echo:');
    await page.getByRole('list', { name: 'Executions' }).getByText('Succeeded').waitFor();
    await shot('04-workflow-succeeded');
    if (process.env.CODEMIE_UPDATE_SCREENSHOT === '1')
      copyFileSync(path.join(artifacts, '04-workflow-succeeded.png'), path.join(root, 'docs/images/console-workflow.png'));
  });

  it('runs the seeded demo workflow and watches it finish', async () => {
    await page.getByRole('list', { name: 'Workflows' }).getByRole('button', { name: 'Hello workflow' }).click();
    await page.getByTestId('validation').filter({ hasText: 'Valid: 2 states' }).waitFor();
    await page.getByLabel('Input').fill('a launch');
    await page.getByRole('button', { name: 'Run' }).click();
    await page.getByTestId('execution-status').filter({ hasText: 'Succeeded' }).waitFor();
    await page.locator('g[data-state="check"][data-status="Succeeded"]').waitFor();

    // An execution started elsewhere (the API), opened from the list while it runs, is followed to its end.
    const form = new URLSearchParams({ grant_type: 'password', client_id: 'codemie-sdk', username: 'admin', password: PASSWORD });
    const { access_token } = (await (await fetch(`${srv.url}/auth/realms/codemie/protocol/openid-connect/token`, { method: 'POST', body: form })).json()) as {
      access_token: string;
    };
    const wfId = new URL(page.url()).hash.split('/')[2]!;
    llm.script({ text: 'slow plan', firstTokenDelayMs: 6000 }, { text: 'checked' });
    const started = await fetch(`${srv.url}/v1/workflows/${wfId}/executions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user_input: 'from the API' }),
    });
    expect(started.status).toBe(200);
    await page.getByRole('list', { name: 'Workflows' }).getByRole('button', { name: 'Browser workflow' }).click();
    await page.getByRole('list', { name: 'Workflows' }).getByRole('button', { name: 'Hello workflow' }).click();
    await page
      .getByRole('list', { name: 'Executions' })
      .getByRole('button', { name: /In Progress/ })
      .click();
    await page.getByTestId('execution-status').filter({ hasText: 'In Progress' }).waitFor();
    await page.getByTestId('execution-status').filter({ hasText: 'Succeeded' }).waitFor();
    await expect(page.getByTestId('execution-output').textContent()).resolves.toContain('checked');
  });

  it('shows the analytics of the calls just made, and the activity log with this sign-in', async () => {
    await page.getByRole('link', { name: 'Usage' }).click();
    // The model the chats and workflow runs above called (the test LLM's default model), counted by the server.
    const bar = page.locator('svg[aria-label="Model calls by model"] g[data-bar="test-model"]');
    await bar.waitFor();
    const modelCalls = llm.chatRequests().length;
    expect(Number(await bar.getAttribute('data-value'))).toBeGreaterThanOrEqual(5);
    expect(Number(await bar.getAttribute('data-value'))).toBeLessThanOrEqual(modelCalls);
    // The workflow written above, with its run (interrupted, then continued to Succeeded).
    const wfRow = page.getByRole('table', { name: 'Workflows' }).getByRole('row', { name: /Browser workflow/ });
    await wfRow.waitFor();
    expect(Number(await wfRow.locator('td[data-col="total_runs"]').textContent())).toBeGreaterThanOrEqual(1);
    // The assistant created above, with the chat held with it.
    await page
      .getByRole('table', { name: 'Assistants' })
      .getByRole('row', { name: /Router/ })
      .waitFor();
    const tokens = page.locator('[data-metric="total_tokens"]');
    await tokens.waitFor();
    expect(Number(await tokens.getAttribute('data-value'))).toBeGreaterThan(0);
    // The activity log lists this test's sign-in (authorization code) as the admin.
    const login = page.getByRole('table', { name: 'Activity log' }).locator('tr[data-event="user.login"]', { hasText: 'admin' });
    await login.first().waitFor();
    // A filter the server applies: another time period reloads the same totals.
    await page.getByLabel('Time period').selectOption('last_24_hours');
    await bar.waitFor();
    await page.getByLabel('Projects (comma-separated)').fill('no-such-project');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator('section', { hasText: 'Model calls by model: nothing in this period.' }).waitFor();
    await page.getByLabel('Projects (comma-separated)').fill('');
    await page.getByRole('button', { name: 'Apply' }).click();
    await bar.waitFor();
    await shot('05-usage');
  });

  it('is usable at phone width, lists projects and users for the admin, and signs out', async () => {
    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('cell', { name: 'demo', exact: true }).first().waitFor();
    await page
      .getByRole('cell', { name: /^admin/ })
      .first()
      .waitFor();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('link', { name: 'Usage' }).click();
    await page.getByRole('table', { name: 'Activity log' }).waitFor();
    // Nothing on the Usage page is wider than the phone (wide tables scroll inside their card).
    const wide = await page.locator('html').evaluate((el) => el.scrollWidth);
    expect(wide).toBeLessThanOrEqual(390);
    await page.getByLabel('Time period').waitFor();
    await shot('06-phone-usage');
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('link', { name: 'Chat' }).click();
    await page.getByLabel('Message').waitFor();
    const box = await page.getByRole('button', { name: 'Send' }).boundingBox();
    expect(box && box.x + box.width).toBeLessThanOrEqual(390);
    await shot('06-phone');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are signed out.').waitFor();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
  });

  it('signs in as a developer: the Usage page shows only their own usage, and the activity log says it is not theirs to see', async () => {
    const form = new URLSearchParams({ grant_type: 'password', client_id: 'codemie-sdk', username: 'admin', password: PASSWORD });
    const { access_token } = (await (await fetch(`${srv.url}/auth/realms/codemie/protocol/openid-connect/token`, { method: 'POST', body: form })).json()) as {
      access_token: string;
    };
    const created = await fetch(`${srv.url}/v1/admin/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'dev@example.com', username: 'dev', password: PASSWORD, name: 'Dev' }),
    });
    expect(created.status).toBeLessThan(300);
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Username').fill('dev');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    await expect(page.locator('.who').textContent()).resolves.toBe('dev');
    await page.getByRole('link', { name: 'Usage' }).click();
    await page.getByRole('alert').filter({ hasText: 'You are not allowed to see the activity log' }).waitFor();
    // The admin's model calls are not the developer's: nothing is theirs yet.
    await page.locator('section', { hasText: 'Model calls by model: nothing in this period.' }).waitFor();
    await expect(page.locator('[data-metric="total_tokens"]').getAttribute('data-value')).resolves.toBe('0');
    await shot('07-usage-developer');
  });
}, 180_000);
