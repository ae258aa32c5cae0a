/** First run: the demo assistant is seeded once, the printed curls work as printed. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from './process.js';
import { tempDir } from './helpers.js';
import { startTestLlmServer, writeTestModelsFile, type TestLlmServer } from './llm-server.js';

describe('first run', () => {
  const tmp = tempDir();
  let llm: TestLlmServer;
  let srv: ServerProcess;
  beforeAll(async () => {
    llm = await startTestLlmServer();
    const { env } = writeTestModelsFile(llm, tmp.dir);
    srv = await startServerProcess({ ...env, CODEMIE_DATA_DIR: tmp.dir, CODEMIE_SEED_DEMO: 'true', CODEMIE_ADMIN_PASSWORD: 'first-run-pass-1', CODEMIE_SCRYPT_N: '1024' });
  });
  afterAll(async () => {
    await srv?.stop('SIGKILL');
    await llm.close();
    tmp.cleanup();
  });

  it('prints the token and /model curls; pasted into a shell they return an answer', async () => {
    for (let i = 0; i < 50 && !srv.output().includes('Try it:'); i++) await new Promise((r) => setTimeout(r, 100));
    const out = srv.output();
    const start = out.indexOf('Try it:');
    expect(start).toBeGreaterThan(-1);
    const block = out.slice(start).split('\n\n')[0]!.split('\n').slice(1).join('\n');
    // The printed curls target the configured public URL (port 8080 by default); point them at this server.
    const script = block.replace(/http:\/\/127\.0\.0\.1:\d+/g, srv.url);
    const lines = script.split('\n');
    const modelCurl = lines.slice(0, 4).join('\n'); // token + non-stream /model call
    llm.script({ text: 'Hello from the demo assistant!' });
    // Async: the test LLM server lives in this process and must keep answering meanwhile.
    const res = await promisify(execFile)('bash', ['-c', `set -e\n${modelCurl}`], { env: { ...process.env, CODEMIE_ADMIN_PASSWORD: 'first-run-pass-1' }, encoding: 'utf8' });
    expect(JSON.parse(res.stdout)).toMatchObject({ generated: 'Hello from the demo assistant!', success: true });

    // The demo workflow curl (the guide's execution request with tags) starts a run that succeeds.
    const wfCurl = [...lines.slice(0, 2), ...lines.slice(6, 8)].join('\n');
    expect(wfCurl).toContain('/executions');
    const started = JSON.parse((await promisify(execFile)('bash', ['-c', `set -e\n${wfCurl}`], { env: { ...process.env, CODEMIE_ADMIN_PASSWORD: 'first-run-pass-1' }, encoding: 'utf8' })).stdout);
    expect(started).toMatchObject({ overall_status: 'In Progress', execution_id: expect.any(String) });
    const token = /TOKEN=\$\(/.test(wfCurl);
    expect(token).toBe(true);
  });
});
