/**
 * One HTTP download into a file, with the two timeouts a model download needs: no response
 * headers within `connectTimeoutMs` (an unreachable or black-holed host fails fast, so another
 * source can be tried), and no body bytes for `stallTimeoutMs` (a transfer that hangs half-way).
 * Each chunk passes through `onChunk` (hashing, progress). The file is left as written; the
 * caller removes it on failure and renames it into place on success.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface DownloadOptions {
  connectTimeoutMs: number;
  stallTimeoutMs: number;
  signal?: AbortSignal;
  fetch?: typeof fetch;
  headers?: Record<string, string>;
  onChunk?: (chunk: Buffer, received: number, total: number | undefined) => void;
}

/** GET with the connect timeout; throws on network errors and non-2xx answers ("HTTP 404"). */
export async function fetchWithTimeout(
  url: string,
  opts: Pick<DownloadOptions, 'connectTimeoutMs' | 'signal' | 'fetch' | 'headers'>,
  body?: AbortController,
): Promise<Response> {
  const connect = new AbortController();
  const timer = setTimeout(() => connect.abort(new Error(`no response within ${Math.round(opts.connectTimeoutMs / 1000)} s`)), opts.connectTimeoutMs);
  const signals = [connect.signal, ...(opts.signal ? [opts.signal] : []), ...(body ? [body.signal] : [])];
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(url, { headers: opts.headers ?? {}, signal: AbortSignal.any(signals), redirect: 'follow' });
  } catch (err) {
    if (connect.signal.aborted) throw connect.signal.reason as Error;
    throw describeFetchError(err);
  } finally {
    clearTimeout(timer);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`HTTP ${res.status}`);
  }
  return res;
}

/** `fetch failed` says nothing: name the cause (ENOTFOUND host, ECONNREFUSED ...) when there is one. */
function describeFetchError(err: unknown): Error {
  if (!(err instanceof Error)) return new Error(String(err));
  const cause = (err as { cause?: { code?: string; hostname?: string; message?: string } }).cause;
  if (err.message === 'fetch failed' && cause) {
    const what = cause.code ? `${cause.code}${cause.hostname ? ` ${cause.hostname}` : ''}` : cause.message;
    if (what) return new Error(`fetch failed: ${what}`);
  }
  return err;
}

export async function downloadTo(url: string, file: string, opts: DownloadOptions): Promise<{ received: number; total: number | undefined }> {
  await mkdir(path.dirname(file), { recursive: true });
  const stall = new AbortController();
  const res = await fetchWithTimeout(url, opts, stall);
  if (!res.body) throw new Error('empty response');
  const total = Number(res.headers.get('content-length')) || undefined;
  let received = 0;
  const timer = setTimeout(() => stall.abort(new Error(`download stalled for ${Math.round(opts.stallTimeoutMs / 1000)} s`)), opts.stallTimeoutMs);
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      received += chunk.length;
      timer.refresh();
      opts.onChunk?.(chunk, received, total);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body as never), counter, createWriteStream(file), {
      signal: AbortSignal.any([stall.signal, ...(opts.signal ? [opts.signal] : [])]),
    });
  } catch (err) {
    if (stall.signal.aborted) throw stall.signal.reason as Error;
    throw err;
  } finally {
    clearTimeout(timer);
  }
  if (total !== undefined && received !== total) throw new Error(`incomplete download (${received} of ${total} bytes)`);
  return { received, total };
}

/**
 * Removes what interrupted downloads of `target` left beside it: `<target>.<pid>[-<tag>].part`
 * (and `.whl`, `.whl.part`) files of processes that are no longer running. A download in another
 * live process (two servers on one data dir) is left alone.
 */
export async function removeStaleDownloads(target: string): Promise<string[]> {
  const dir = path.dirname(target);
  const base = path.basename(target);
  const names = await readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(`${base}.`)) continue;
    const m = /^\.(\d+)(?:-[0-9a-f]+)?\.(?:part|whl|whl\.part)$/.exec(name.slice(base.length));
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || alive(pid)) continue;
    await rm(path.join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
