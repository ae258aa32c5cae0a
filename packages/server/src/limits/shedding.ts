/**
 * Load shedding: a bound on the calls one process works on at once (and on one user's share of
 * them). A call is a request to a run-starting route (an assistant call, a workflow execution
 * start or resume) from the moment it is authenticated until its response ends (for a stream:
 * until the stream ends). Beyond the bound a new call is refused at once with 503 and Retry-After,
 * before it costs anything, so the calls already admitted keep their latency whatever the offered
 * load; without it, an overloaded process makes every caller wait, unboundedly.
 *
 * A count alone has to be sized to the hardware (and to what the calls do), so the process also
 * watches its own event loop: while the loop's delay (p99 over the last half second, Node's
 * built-in histogram) is over `maxEventLoopDelayMs`, the CPU is the queue every admitted call waits
 * in, and new calls are refused the same way until it recovers. Calls already admitted run on.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, type Registry } from 'prom-client';
import { ApiError } from '../api/errors.js';

export interface SheddingSettings {
  /** Calls in flight in this process; 0 = no bound. */
  maxInflight: number;
  /** Calls in flight of one user in this process; 0 = no bound. */
  maxInflightPerUser: number;
  /** Event-loop delay (ms, p99 over the last half second) above which new calls are refused; 0 = off. */
  maxEventLoopDelayMs: number;
  /** Retry-After (seconds) of a refusal. */
  retryAfterSeconds: number;
}

/** The event-loop delay is judged over windows of this length. */
const DELAY_WINDOW_MS = 500;

export const overloaded = (retryAfter: number, delayMs: number, maxMs: number) =>
  new ApiError(
    503,
    'The server is at capacity',
    `This server's event loop is ${delayMs} ms behind (more than CODEMIE_MAX_EVENT_LOOP_DELAY_MS, ${maxMs} ms): it is taking no new calls until it catches up.`,
    `Retry after ${retryAfter} s.`,
    { 'retry-after': String(retryAfter) },
  );

export const atCapacity = (retryAfter: number, who: 'server' | 'user') =>
  new ApiError(
    503,
    who === 'server' ? 'The server is at capacity' : 'Too many calls of this user in progress',
    who === 'server'
      ? 'This server is working on as many calls as it is configured to take (CODEMIE_MAX_INFLIGHT_CALLS).'
      : 'This user has as many calls in progress on this server as one user may have (CODEMIE_MAX_INFLIGHT_CALLS_PER_USER).',
    `Retry after ${retryAfter} s, or wait for a call of yours to end.`,
    { 'retry-after': String(retryAfter) },
  );

export class LoadShedder {
  private inflight = 0;
  private readonly perUser = new Map<string, number>();
  private readonly gauge: Gauge;
  private readonly shed: Counter<'scope'>;
  private delay?: IntervalHistogram;
  private timer?: NodeJS.Timeout;
  /** p99 event-loop delay (ms) of the last full window, when over the bound; else 0. */
  private lagging = 0;

  constructor(
    readonly settings: SheddingSettings,
    registry: Registry,
  ) {
    const self = this;
    this.gauge = new Gauge({
      name: 'codemie_calls_inflight',
      help: 'Run-starting calls (assistant calls, workflow starts/resumes) this process is working on',
      registers: [registry],
      collect() {
        this.set(self.inflight);
      },
    });
    this.shed = new Counter({
      name: 'codemie_calls_shed_total',
      help: 'Calls refused with 503 because the process (scope=server) or the user (scope=user) was at its bound, or the event loop lagged (scope=delay)',
      labelNames: ['scope'],
      registers: [registry],
    });
  }

  /** Starts watching the event loop (once the app is ready: start-up work is not overload). */
  start(): void {
    const max = this.settings.maxEventLoopDelayMs;
    if (max <= 0 || this.timer) return;
    const h = monitorEventLoopDelay({ resolution: 10 });
    h.enable();
    this.delay = h;
    this.timer = setInterval(() => {
      const p99 = Math.round(h.percentile(99) / 1e6);
      this.lagging = p99 > max ? p99 : 0;
      h.reset();
    }, DELAY_WINDOW_MS);
    this.timer.unref();
  }

  /** Stops watching the event loop (the process is closing). */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.delay?.disable();
    this.timer = undefined;
    this.lagging = 0;
  }

  get active(): number {
    return this.inflight;
  }

  /** Takes a slot for a call of `userId`; returns its release, or throws the 503. */
  acquire(userId: string): () => void {
    const s = this.settings;
    if (this.lagging) {
      this.shed.inc({ scope: 'delay' });
      throw overloaded(s.retryAfterSeconds, this.lagging, s.maxEventLoopDelayMs);
    }
    if (s.maxInflight > 0 && this.inflight >= s.maxInflight) {
      this.shed.inc({ scope: 'server' });
      throw atCapacity(s.retryAfterSeconds, 'server');
    }
    const mine = this.perUser.get(userId) ?? 0;
    if (s.maxInflightPerUser > 0 && mine >= s.maxInflightPerUser) {
      this.shed.inc({ scope: 'user' });
      throw atCapacity(s.retryAfterSeconds, 'user');
    }
    this.inflight++;
    this.perUser.set(userId, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inflight--;
      const n = (this.perUser.get(userId) ?? 1) - 1;
      if (n > 0) this.perUser.set(userId, n);
      else this.perUser.delete(userId); // the map holds only users with calls in flight
    };
  }
}

/** Sheds run-starting requests (descriptors with `startsRun`) after authentication. */
export function installShedding(app: FastifyInstance, shedder: LoadShedder): void {
  const s = shedder.settings;
  if (s.maxInflight <= 0 && s.maxInflightPerUser <= 0 && s.maxEventLoopDelayMs <= 0) return;
  app.addHook('onReady', (done) => {
    shedder.start();
    done();
  });
  app.addHook('onClose', (_app, done) => {
    shedder.close();
    done();
  });
  app.addHook('onRequest', (req, reply, done) => {
    if (!req.user || !req.routeOptions.config?.startsRun) return done();
    let release: () => void;
    try {
      release = shedder.acquire(req.user.id);
    } catch (err) {
      return done(err as Error);
    }
    // 'close' fires when the response is done or the connection went away: streams included.
    reply.raw.once('close', release);
    done();
  });
}
