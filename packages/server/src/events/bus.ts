/**
 * Stream events of runs (assistant calls, workflow executions): published by whoever
 * executes the run, followed by whichever HTTP request streams it. Events have ids so a
 * client reconnecting with Last-Event-ID resumes without gaps while the channel is retained.
 * The in-memory bus serves one process; the Redis-streams bus crosses processes.
 */
export interface StreamEvent {
  id: string;
  data: unknown;
}

export interface SubscribeOptions {
  /** Replay only events after this id (Last-Event-ID). */
  afterId?: string;
  signal?: AbortSignal;
}

export interface EventBus {
  publish(channel: string, data: unknown): Promise<string>;
  /** Marks the channel finished: subscribers drain what is left and complete. */
  end(channel: string): Promise<void>;
  subscribe(channel: string, opts?: SubscribeOptions): AsyncIterable<StreamEvent>;
  close(): Promise<void>;
}

interface Channel {
  events: StreamEvent[];
  seq: number;
  ended: boolean;
  wake: Set<() => void>;
  expiry?: NodeJS.Timeout;
}

export class MemoryEventBus implements EventBus {
  private readonly channels = new Map<string, Channel>();

  /** @param retainMs how long a finished channel stays replayable. */
  constructor(
    private readonly retainMs = 5 * 60_000,
    private readonly maxEvents = 10_000,
  ) {}

  private channel(name: string): Channel {
    let ch = this.channels.get(name);
    if (!ch) {
      ch = { events: [], seq: 0, ended: false, wake: new Set() };
      this.channels.set(name, ch);
    }
    return ch;
  }

  private notify(ch: Channel): void {
    for (const w of ch.wake) w();
    ch.wake.clear();
  }

  async publish(channel: string, data: unknown): Promise<string> {
    const ch = this.channel(channel);
    const id = String(++ch.seq);
    ch.events.push({ id, data });
    if (ch.events.length > this.maxEvents) ch.events.splice(0, ch.events.length - this.maxEvents);
    this.notify(ch);
    return id;
  }

  async end(channel: string): Promise<void> {
    const ch = this.channel(channel);
    ch.ended = true;
    this.notify(ch);
    ch.expiry = setTimeout(() => this.channels.delete(channel), this.retainMs);
    ch.expiry.unref();
  }

  async *subscribe(channel: string, opts: SubscribeOptions = {}): AsyncIterable<StreamEvent> {
    const ch = this.channel(channel);
    let lastId = Number(opts.afterId ?? 0) || 0;
    for (;;) {
      if (opts.signal?.aborted) return;
      // Ids are consecutive integers, so the next event's index follows from the first kept id.
      const first = ch.events.length ? Number(ch.events[0].id) : ch.seq + 1;
      for (let i = Math.max(0, lastId - first + 1); i < ch.events.length; i++) {
        const e = ch.events[i];
        lastId = Number(e.id);
        yield e;
        if (opts.signal?.aborted) return;
      }
      if (ch.ended && lastId >= ch.seq) return;
      await new Promise<void>((resolve) => {
        const onAbort = () => resolve();
        ch.wake.add(() => {
          opts.signal?.removeEventListener('abort', onAbort);
          resolve();
        });
        opts.signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }

  async close(): Promise<void> {
    for (const ch of this.channels.values()) {
      if (ch.expiry) clearTimeout(ch.expiry);
      ch.ended = true;
      this.notify(ch);
    }
    this.channels.clear();
  }
}
