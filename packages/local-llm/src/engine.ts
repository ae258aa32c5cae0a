/**
 * One loaded model shared by every caller: the llama.cpp backend and the model are loaded once,
 * lazily on first use (concurrent first calls share the same load), into one context with
 * `parallel` sequences. A request holds one sequence while it generates; the others wait in a
 * FIFO queue bounded by `maxQueue` (beyond it: LocalModelBusyError). An aborted waiter leaves
 * the queue at once.
 */
import path from 'node:path';
import os from 'node:os';
import type { ChatWrapper, Llama, LlamaContext, LlamaContextSequence, LlamaModel } from 'node-llama-cpp';
import { LocalModelBusyError, LocalModelUnavailableError, abortError } from './errors.js';

export interface EngineOptions {
  modelPath: string;
  /** Tokens per sequence (prompt + answer). */
  contextSize: number;
  /** CPU threads used for evaluation (0 = defaultThreads(): half the cores, 1 to 4). */
  threads: number;
  /** Requests served at the same time (sequences of the one context). */
  parallel: number;
  /** Requests allowed to wait for a free sequence; more fail with LocalModelBusyError. */
  maxQueue: number;
}

export interface Loaded {
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  /** The model's chat template, resolved once (resolving it costs ~1 s per chat otherwise). */
  chatWrapper: ChatWrapper;
}

/**
 * Half the cores (1 to 4): llama.cpp threads spin while they wait for each other, so more
 * threads than free cores makes generation dramatically slower, and the Node event loop of the
 * same process needs a core too.
 */
export function defaultThreads(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(4, Math.floor(cores / 2)));
}

export interface Lease {
  loaded: Loaded;
  sequence: LlamaContextSequence;
  release(): void;
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

let llamaPromise: Promise<Llama> | undefined;

/** The llama.cpp backend: CPU, prebuilt binary only (never downloads or builds llama.cpp). */
function getBackend(): Promise<Llama> {
  llamaPromise ??= import('node-llama-cpp')
    .then(({ getLlama, LlamaLogLevel }) => getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error }))
    .catch((err: unknown) => {
      llamaPromise = undefined;
      throw err;
    });
  return llamaPromise;
}

export class LocalEngine {
  readonly modelId: string;
  private loading?: Promise<Loaded>;
  private free: LlamaContextSequence[] = [];
  private busySlots = 0;
  private readonly waiters: Waiter[] = [];

  constructor(readonly options: EngineOptions) {
    this.modelId = path.basename(options.modelPath).replace(/\.gguf$/i, '');
  }

  /** Requests currently waiting for a sequence. */
  get queued(): number {
    return this.waiters.length;
  }

  /** Loads the model (once); later calls return the same promise. A failed load is retried next time. */
  load(): Promise<Loaded> {
    this.loading ??= this.doLoad().catch((err: unknown) => {
      this.loading = undefined;
      if (err instanceof LocalModelUnavailableError) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      throw new LocalModelUnavailableError(`local model ${this.options.modelPath} could not be loaded: ${msg}`, this.modelId, err);
    });
    return this.loading;
  }

  private async doLoad(): Promise<Loaded> {
    const { existsSync } = await import('node:fs');
    if (!existsSync(this.options.modelPath)) {
      throw new LocalModelUnavailableError(`local model file not found: ${this.options.modelPath}`, this.modelId);
    }
    const llama = await getBackend();
    const { resolveChatWrapper } = await import('node-llama-cpp');
    const model = await llama.loadModel({ modelPath: this.options.modelPath, gpuLayers: 0 });
    const context = await model.createContext({
      contextSize: Math.min(this.options.contextSize, model.trainContextSize),
      sequences: this.options.parallel,
      threads: this.options.threads > 0 ? this.options.threads : defaultThreads(),
    });
    const chatWrapper = resolveChatWrapper(model);
    this.free = [];
    for (let i = 0; i < this.options.parallel; i++) this.free.push(context.getSequence());
    return { llama, model, context, chatWrapper };
  }

  /**
   * Waits (FIFO) for a free sequence, loading the model if needed. Call `release()` when done.
   * `onQueued` hears it when the request has to wait, with the number of requests waiting.
   */
  async acquire(signal?: AbortSignal, onQueued?: (waiting: number) => void): Promise<Lease> {
    if (signal?.aborted) throw abortError(signal);
    await this.takeSlot(signal, onQueued);
    let loaded: Loaded;
    try {
      loaded = await this.load();
    } catch (err) {
      this.giveSlot();
      throw err;
    }
    const sequence = this.free.pop();
    if (!sequence) {
      this.giveSlot();
      throw new Error('internal: no free sequence for a granted slot');
    }
    let released = false;
    return {
      loaded,
      sequence,
      release: () => {
        if (released) return;
        released = true;
        this.free.push(sequence);
        this.giveSlot();
      },
    };
  }

  private takeSlot(signal?: AbortSignal, onQueued?: (waiting: number) => void): Promise<void> {
    if (this.busySlots < this.options.parallel && this.waiters.length === 0) {
      this.busySlots++;
      return Promise.resolve();
    }
    if (this.waiters.length >= this.options.maxQueue) {
      return Promise.reject(new LocalModelBusyError(this.waiters.length, this.modelId));
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(abortError(signal));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
      onQueued?.(this.waiters.length);
    });
  }

  private giveSlot(): void {
    const next = this.waiters.shift();
    if (next) {
      // the slot passes straight to the next waiter (busySlots unchanged)
      if (next.signal && next.onAbort) next.signal.removeEventListener('abort', next.onAbort);
      next.resolve();
      return;
    }
    this.busySlots--;
  }

  /** Frees the context and the model (the next call loads them again). */
  async dispose(): Promise<void> {
    const loading = this.loading;
    this.loading = undefined;
    if (!loading) return;
    const loaded = await loading.catch(() => undefined);
    if (!loaded) return;
    await loaded.context.dispose();
    await loaded.model.dispose();
  }
}

const engines = new Map<string, LocalEngine>();

/** The shared engine for these options: the same model file and settings load only once per process. */
export function sharedEngine(options: EngineOptions): LocalEngine {
  const key = JSON.stringify([path.resolve(options.modelPath), options.contextSize, options.threads, options.parallel, options.maxQueue]);
  let engine = engines.get(key);
  if (!engine) {
    engine = new LocalEngine({ ...options, modelPath: path.resolve(options.modelPath) });
    engines.set(key, engine);
  }
  return engine;
}

/** Disposes every shared engine (tests, shutdown). */
export async function disposeAllEngines(): Promise<void> {
  const all = [...engines.values()];
  engines.clear();
  await Promise.all(all.map((e) => e.dispose()));
}
