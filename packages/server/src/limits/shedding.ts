/**
 * Load shedding: a bound on the calls one process works on at once (and on one user's share of
 * them). A call is a request to a run-starting route (an assistant call, a workflow execution
 * start or resume) from the moment it is authenticated until its response ends (for a stream:
 * until the stream ends). Beyond the bound a new call is refused at once with 503 and Retry-After,
 * before it costs anything, so the calls already admitted keep their latency whatever the offered
 * load; without it, an overloaded process makes every caller wait, unboundedly.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, type Registry } from 'prom-client';
import { ApiError } from '../api/errors.js';

export interface SheddingSettings {
  /** Calls in flight in this process; 0 = no bound. */
  maxInflight: number;
  /** Calls in flight of one user in this process; 0 = no bound. */
  maxInflightPerUser: number;
  /** Retry-After (seconds) of a refusal. */
  retryAfterSeconds: number;
}

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
      help: 'Calls refused with 503 because the process (scope=server) or the user (scope=user) was at its bound',
      labelNames: ['scope'],
      registers: [registry],
    });
  }

  get active(): number {
    return this.inflight;
  }

  /** Takes a slot for a call of `userId`; returns its release, or throws the 503. */
  acquire(userId: string): () => void {
    const s = this.settings;
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
  if (shedder.settings.maxInflight <= 0 && shedder.settings.maxInflightPerUser <= 0) return;
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
