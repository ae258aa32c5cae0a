/**
 * Parses workflow documents (validate.ts) on a worker thread, so a large or hostile document
 * never holds up the event loop: parsing 1 MiB of YAML costs seconds of CPU, and every request
 * of the process would wait for it (health checks included). One worker per process
 * (sharedConfigParser), started on first use (≈ 0.1-0.7 s), takes the documents one at a time;
 * it is stopped after ten minutes without work and never keeps the process alive. Documents of
 * at most INLINE_MAX_BYTES (the demo workflow's size) take ~1 ms and are parsed in place.
 *
 * A document that takes longer than `timeoutMs` (60 s: a backstop, the size limits already bound
 * the work; a 1 MiB document takes seconds, more on a loaded machine), or makes the worker run out of its memory
 * (`resourceLimits`) or die, is refused (400) and the worker replaced for the next one. Only when
 * a worker cannot start at all are documents parsed on the calling thread (same results).
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ApiError } from '../api/errors.js';
import { allowedMcpCommands } from '../mcp/schemas.js';
import type { WorkflowYaml } from './config-schema.js';
import { configError, parseWorkflowYaml, WorkflowConfigError, type StructuredConfigError, type WorkflowLimits } from './validate.js';

export type ParseReply =
  | { id: number; ok: WorkflowYaml }
  | { id: number; error: { status: number; message: string; details: unknown; help: string | null; structured?: StructuredConfigError | null } }
  | { id: number; crash: string };

interface Job {
  id: number;
  src: string;
  limits: WorkflowLimits;
  resolve(cfg: WorkflowYaml): void;
  reject(err: unknown): void;
}

/**
 * The worker's program. Run from the compiled code it imports parse-worker.js beside this file;
 * run from the TypeScript sources (the test suite) it registers tsx first.
 */
const BOOT = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})();
`;

/** tsx's ESM API (the test suite runs the TypeScript sources; the product never gets here). */
function tsxApi(): string {
  const cjs = createRequire(import.meta.url).resolve('tsx/esm/api');
  return pathToFileURL(cjs.replace(/\.cjs$/, '.mjs')).href;
}

/** Small enough to parse on the calling thread (≈ 1 ms; a round trip to the worker costs as much). */
export const INLINE_MAX_BYTES = 1024;

export class WorkflowConfigParser {
  private worker: Worker | null = null;
  private ready = false;
  private readonly queue: Job[] = [];
  private current: Job | null = null;
  private timer: NodeJS.Timeout | null = null;
  private idle: NodeJS.Timeout | null = null;
  private nextId = 1;
  /** Threads unavailable here: parse inline. */
  private inline = false;

  constructor(private readonly opts: { timeoutMs?: number; idleMs?: number; maxMemoryMb?: number } = {}) {}

  parse(src: string, limits: WorkflowLimits = {}): Promise<WorkflowYaml> {
    if (this.inline || src.length <= INLINE_MAX_BYTES) return Promise.resolve().then(() => parseWorkflowYaml(src, limits));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, src, limits, resolve, reject });
      this.pump();
    });
  }

  /** Stops the worker (pending documents are parsed by a new one, if any come). */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.ready = false;
    if (this.idle) clearTimeout(this.idle);
    await w?.terminate();
  }

  private pump(): void {
    if (this.current || !this.queue.length) return;
    if (this.idle) clearTimeout(this.idle);
    const worker = this.worker ?? this.start();
    if (!worker) return;
    if (!this.ready) return; // the 'ready' message pumps again
    const job = this.queue.shift()!;
    this.current = job;
    const timeoutMs = this.opts.timeoutMs ?? 60_000;
    this.timer = setTimeout(() => {
      this.current = null;
      job.reject(configError(`yaml_config took longer than ${Math.round(timeoutMs / 1000)} s to validate; make it smaller or simpler.`));
      void this.close().then(() => this.pump());
    }, timeoutMs);
    // the worker's copy of the MCP schemas needs the operator's command allow-list (CODEMIE_MCP_ALLOWED_COMMANDS)
    worker.postMessage({ id: job.id, src: job.src, limits: job.limits, allowedCommands: [...allowedMcpCommands()] });
  }

  private start(): Worker | null {
    const fromSource = import.meta.url.endsWith('.ts');
    let worker: Worker;
    try {
      worker = new Worker(BOOT, {
        eval: true,
        resourceLimits: { maxOldGenerationSizeMb: this.opts.maxMemoryMb ?? 512 },
        workerData: {
          entry: new URL(`./parse-worker.${fromSource ? 'ts' : 'js'}`, import.meta.url).href,
          tsx: fromSource ? tsxApi() : undefined,
        },
      });
    } catch {
      this.fallBack();
      return null;
    }
    worker.unref();
    this.worker = worker;
    worker.on('message', (m: 'ready' | ParseReply) => {
      if (m === 'ready') {
        this.ready = true;
        this.pump();
        return;
      }
      const job = this.current;
      if (!job || job.id !== m.id) return;
      this.current = null;
      if (this.timer) clearTimeout(this.timer);
      if ('ok' in m) job.resolve(m.ok);
      else if ('error' in m)
        job.reject(
          m.error.structured
            ? new WorkflowConfigError(String(m.error.details), m.error.structured)
            : new ApiError(m.error.status, m.error.message, m.error.details, m.error.help),
        );
      else job.reject(new Error(m.crash));
      this.pump();
      if (!this.current) this.idleStop();
    });
    const gone = () => {
      if (this.worker !== worker) return;
      // never got going (no threads, no worker program): parse on this thread from now on
      if (!this.ready) return this.fallBack();
      // died on a document (out of memory, crashed): refuse that one, a new worker takes the rest
      this.worker = null;
      this.ready = false;
      if (this.timer) clearTimeout(this.timer);
      const job = this.current;
      this.current = null;
      job?.reject(configError('yaml_config could not be validated: the validator ran out of memory or stopped on it; make it smaller or simpler.'));
      this.pump();
    };
    worker.on('error', gone);
    worker.on('exit', gone);
    return worker;
  }

  private idleStop(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = setTimeout(() => void this.close(), this.opts.idleMs ?? 600_000);
    this.idle.unref();
  }

  private fallBack(): void {
    this.inline = true;
    this.worker = null;
    this.ready = false;
    if (this.timer) clearTimeout(this.timer);
    const pending = [...(this.current ? [this.current] : []), ...this.queue.splice(0)];
    this.current = null;
    for (const job of pending) {
      try {
        job.resolve(parseWorkflowYaml(job.src, job.limits));
      } catch (err) {
        job.reject(err);
      }
    }
  }
}

/** The process's one parser (one worker thread, however many platforms or engines the process runs). */
export const sharedConfigParser = new WorkflowConfigParser();
