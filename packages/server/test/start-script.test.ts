/**
 * `npm start` (scripts/start.mjs) under a process-group SIGTERM, as systemd (and `kill -- -PGID`)
 * sends it: the server gets the signal directly AND through start.mjs. It must still finish the
 * in-flight request and exit 0, not take the second SIGTERM for "exit now".
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';
import { freePort } from './process.js';
import { startTestLlmServer, writeTestModelsFile, type TestLlmServer } from './llm-server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const PASSWORD = 'start-script-pass-1';

async function until(what: string, fn: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('npm start: signals', () => {
  const tmp = tempDir('codemie-start-');
  let llm: TestLlmServer | undefined;
  afterAll(async () => {
    await llm?.close();
    tmp.cleanup();
  });

  it('a process-group SIGTERM lets the in-flight request finish; exit code 0', async () => {
    llm = await startTestLlmServer();
    const { env } = writeTestModelsFile(llm, tmp.dir);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // detached: its own process group, so the test can signal the group the way systemd does.
    const child = spawn(process.execPath, [path.join(root, 'scripts/start.mjs')], {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...env,
        HOST: '127.0.0.1',
        PORT: String(port),
        CODEMIE_DATA_DIR: tmp.dir,
        CODEMIE_ADMIN_PASSWORD: PASSWORD,
        CODEMIE_SCRYPT_N: '1024',
        CODEMIE_LOCAL_MODEL: 'off',
        CODEMIE_SEED_DEMO: 'false',
        LOG_LEVEL: 'info',
      },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await until('the server to be healthy', async () => {
        if (child.exitCode !== null) throw new Error(`npm start exited early:\n${out}`);
        return fetch(`${url}/v1/healthcheck`).then((r) => r.ok, () => false);
      }, 120_000);
      const form = new URLSearchParams({ grant_type: 'password', client_id: 'codemie-sdk', username: 'admin', password: PASSWORD });
      const token = ((await (await fetch(`${url}/auth/realms/codemie/protocol/openid-connect/token`, { method: 'POST', body: form })).json()) as { access_token: string }).access_token;
      const h = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const created = await fetch(`${url}/v1/assistants`, { method: 'POST', headers: h, body: JSON.stringify({ name: 'Slow', description: '', system_prompt: 'x', project: 'demo' }) });
      const { assistantId } = (await created.json()) as { assistantId: string };

      llm.script({ text: 'finished despite the signal', firstTokenDelayMs: 1500 });
      const inFlight = fetch(`${url}/v1/assistants/${assistantId}/model`, { method: 'POST', headers: h, body: JSON.stringify({ text: 'hi' }) });
      // The request is at the model (in flight) before the signal goes out.
      await until('the call to reach the model', () => llm!.chatRequests().length === 1, 10_000);
      process.kill(-child.pid!, 'SIGTERM');

      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(((await res.json()) as { generated: string }).generated).toBe('finished despite the signal');
      expect(await exited).toBe(0);
      // The server gets the group's SIGTERM and the one npm start passes on. Usually the second is
      // logged ("SIGTERM again: still waiting…"), but two signals of one kind that arrive before the
      // handler runs are delivered as one, so only the outcome is asserted: no early exit.
      expect(out).toContain('shutting down; waiting for in-flight requests');
      expect(out).not.toContain('exiting now');
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    }
  }, 180_000);
});
