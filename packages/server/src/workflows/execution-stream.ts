/**
 * Follows a run segment of an execution on the event bus until its end, as the reference's
 * chunks. The engine writes a state's or the run's end before publishing it, so a worker that dies
 * between the two loses the event: when the stream sees nothing for `checkMs`, it re-reads the
 * execution and, if the segment has ended there, sends the end from the record (after a short
 * grace for the published one). The client gets exactly one `last` chunk, and each state's
 * finish once (a worker taking a run over publishes the finishes it replays again).
 */
import type { EventBus, StreamEvent as BusEvent } from '../events/bus.js';
import type { StreamEvent } from '../api/route.js';
import type { RunEvent } from '../turn/events.js';
import type { StreamChunk } from '../wire/chunk.js';
import { workflowChunk } from '../wire/run-events.js';
import { channelOf, type BusEnvelope } from './model.js';

const TIMEOUT = Symbol('timeout');

/** p, or TIMEOUT when it takes longer than ms (p keeps running; its result can be awaited later). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<typeof TIMEOUT>((resolve) => (timer = setTimeout(() => resolve(TIMEOUT), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export interface ExecutionStreamDeps {
  events: EventBus;
  /** The end of segment `seq` from the database, or null while it runs. */
  segmentFinal(executionId: string, seq: number): Promise<RunEvent | null>;
  checkMs: number;
}

export interface ExecutionStreamRequest {
  executionId: string;
  /** The run segment to follow (1 = the start, +1 per resume). */
  seq: number;
  /** SSE Last-Event-ID of a reconnecting client. */
  afterId?: string;
  signal: AbortSignal;
  /** Starts the segment once the subscription is open (so no event is missed). */
  start(): Promise<void>;
}

const isLast = (ev: RunEvent) => ev.type === 'end' || ev.type === 'interrupt';

export async function* executionStream(deps: ExecutionStreamDeps, r: ExecutionStreamRequest): AsyncGenerator<StreamEvent<StreamChunk>> {
  // The subscription ends when the client goes away or when this loop is done.
  const stop = new AbortController();
  const onGone = () => stop.abort();
  r.signal.addEventListener('abort', onGone, { once: true });
  const events = deps.events.subscribe(channelOf(r.executionId), { signal: stop.signal, afterId: r.afterId })[Symbol.asyncIterator]();
  const finishes = new Set<string>();
  const toChunk = (ev: RunEvent) => workflowChunk(r.executionId, ev);
  let next: Promise<IteratorResult<BusEvent>> | undefined;
  try {
    await r.start();
    /** This segment's end from the database, once a check found it ended there. */
    let ended: RunEvent | null = null;
    next = events.next();
    for (;;) {
      const res = await within(next, ended ? Math.min(deps.checkMs, 1000) : deps.checkMs);
      if (r.signal.aborted) return;
      if (res === TIMEOUT) {
        if (ended) {
          yield { data: toChunk(ended) };
          return;
        }
        ended = await deps.segmentFinal(r.executionId, r.seq);
        continue;
      }
      if (res.done) {
        // The channel ended without this segment's end (its publish failed): send it from the record.
        const fin = ended ?? (await deps.segmentFinal(r.executionId, r.seq));
        if (fin) yield { data: toChunk(fin) };
        return;
      }
      next = events.next();
      const env = res.value.data as BusEnvelope;
      if (env.seq !== r.seq) continue;
      const ev = env.event;
      if (ev.type === 'state-finish') {
        const key = `${ev.state.rowId}:${ev.state.status}`;
        if (finishes.has(key)) continue;
        finishes.add(key);
      }
      yield { id: res.value.id, data: toChunk(ev) };
      if (isLast(ev)) return;
    }
  } finally {
    stop.abort();
    next?.catch(() => undefined);
    r.signal.removeEventListener('abort', onGone);
  }
}
