/**
 * The shell snippets of README.md and docs/cli.md, run as written against a real server process
 * whose one model is named like a fresh install's default (`smollm2-135m-instruct`) but answers
 * from the scripted test LLM server, so the docs stay true for a fresh `npm start`.
 *
 * What a reader does by hand, the test does the same way: URLs point at this server instead of
 * :8080, `codemie` is the command npm links (node_modules/.bin, the committed bin entry), and a
 * placeholder such as `<assistant-id>` is the id the snippet's `create` line printed (or, in the
 * README, the seeded demo assistant the server printed). Build first (`npm run build`).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../packages/server/test/helpers.js';
import { startServerProcess, type ServerProcess } from '../../packages/server/test/process.js';
import { startTestLlmServer, writeTestModelsFile, type TestLlmServer } from '../../packages/server/test/llm-server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PASSWORD = 'docs-snippets-pass-1';

/** The ```bash / ```sh blocks of a markdown file. */
function shellBlocks(file: string): string[] {
  const md = readFileSync(path.join(root, file), 'utf8');
  return [...md.matchAll(/^```(?:bash|sh)\n([\s\S]*?)^```/gm)].map((m) => m[1]!);
}

/** `codemie <group> create ...` lines print an id that later lines use as `<group-id>`. */
const CREATES: Array<[RegExp, string]> = [
  [/^codemie assistants create\b/, 'assistant-id'],
  [/^codemie workflows create\b/, 'workflow-id'],
];

function asScript(block: string, url: string): string {
  const lines = block.replace(/http:\/\/127\.0\.0\.1:8080/g, url).split('\n');
  const out: string[] = ['set -euo pipefail'];
  for (const line of lines) {
    const made = CREATES.find(([re]) => re.test(line));
    const withIds = line.replace(/<([a-z]+-id)>/g, (_m, name: string) => `"$${name.replace('-', '_').toUpperCase()}"`);
    if (made) {
      const v = made[1].replace('-', '_').toUpperCase();
      const cmd = withIds.replace(/\s+#.*$/, '');
      out.push(`${v}=$(${cmd})`, `echo "${v}=$${v}"`);
    } else out.push(withIds);
  }
  return out.join('\n');
}

describe('docs snippets', () => {
  const tmp = tempDir('codemie-docs-');
  let llm: TestLlmServer;
  let srv: ServerProcess;
  let demoAssistant = '';
  const run = async (script: string) => {
    const res = await promisify(execFile)('bash', ['-c', script], {
      cwd: root,
      encoding: 'utf8',
      env: {
        ...process.env,
        PATH: `${path.join(root, 'node_modules/.bin')}:${process.env.PATH}`,
        CODEMIE_HOME: path.join(tmp.dir, 'home'),
        CODEMIE_SERVER: srv.url,
        CODEMIE_ADMIN_PASSWORD: PASSWORD,
        PW: PASSWORD,
        ASSISTANT_ID: demoAssistant,
        NO_COLOR: '1',
      },
    });
    return res.stdout;
  };

  beforeAll(async () => {
    llm = await startTestLlmServer();
    const { env } = writeTestModelsFile(llm, tmp.dir, {
      defaults: false,
      models: [{ base_name: 'smollm2-135m-instruct', provider: 'openai-compatible', deployment_name: 'test-model', base_url: llm.baseUrl, api_key: 'k', default: true }],
    });
    srv = await startServerProcess({ ...env, CODEMIE_DATA_DIR: tmp.dir, CODEMIE_SEED_DEMO: 'true', CODEMIE_ADMIN_PASSWORD: PASSWORD, CODEMIE_SCRYPT_N: '1024' });
    for (let i = 0; i < 100 && !srv.output().includes('Try it:'); i++) await new Promise((r) => setTimeout(r, 100));
    demoAssistant = /\/assistants\/([0-9a-f-]{36})\/model/.exec(srv.output())![1]!;
  }, 60_000);
  afterAll(async () => {
    await srv?.stop('SIGKILL');
    await llm?.close();
    tmp.cleanup();
  });

  it('`codemie` is what npm links after `npm ci`: a committed, executable bin entry', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'packages/cli/package.json'), 'utf8'));
    const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
    expect(pkg.bin).toEqual({ codemie: 'bin/codemie.js' });
    expect(lock.packages['packages/cli'].bin).toEqual(pkg.bin);
    const shim = path.join(root, 'packages/cli', pkg.bin.codemie);
    expect(readFileSync(shim, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(statSync(shim).mode & 0o111).not.toBe(0);
    // npm ci linked it (a bin whose target is missing at install time is never linked)
    const linked = path.join(root, 'node_modules/.bin/codemie');
    expect(existsSync(linked)).toBe(true);
    expect(realpathSync(linked)).toBe(realpathSync(shim));
  });

  it('`npx codemie --help` runs the CLI', async () => {
    const out = await run('npx --no-install codemie --help');
    expect(out).toContain('Usage: codemie');
    expect(out).toContain('models');
  });

  it("README: the two commands at the top are the package's start and test scripts", () => {
    const [top] = shellBlocks('README.md');
    const scripts = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).scripts;
    // Not run here (one starts a server, the other is this suite); test/start-script.test.ts runs `npm start`.
    expect(top).toMatch(/^npm ci && npm start\s/m);
    expect(top).toMatch(/^npm test\s/m);
    expect(scripts.start).toBe('node scripts/start.mjs');
    expect(scripts.test).toBe('node scripts/test.mjs');
  });

  it('README: the first-call snippet returns an answer', async () => {
    const block = shellBlocks('README.md')[1]!;
    expect(block).toContain('/model');
    const out = await run(asScript(block, srv.url));
    expect(JSON.parse(out)).toMatchObject({ success: true, generated: 'Echo: hi' });
  });

  it('README: the Authentication snippet returns the user', async () => {
    const block = shellBlocks('README.md')[2]!;
    expect(block).toContain('/v1/user');
    const out = await run(asScript(block, srv.url));
    expect(JSON.parse(out)).toMatchObject({ username: 'admin' });
  });

  it('README has no other shell snippets (a new one must be added here)', () => {
    expect(shellBlocks('README.md')).toHaveLength(3);
  });

  it('docs/cli.md: the first examples run as written (login, create, chat, workflow run)', async () => {
    const blocks = shellBlocks('docs/cli.md');
    expect(blocks).toHaveLength(1);
    const out = await run(asScript(blocks[0]!, srv.url));
    expect(out).toMatch(/ASSISTANT_ID=[0-9a-f-]{36}/);
    expect(out).toContain('Echo: What is a monad?');
    expect(out).toMatch(/WORKFLOW_ID=[0-9a-f-]{36}/);
  }, 60_000);
});
