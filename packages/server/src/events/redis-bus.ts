/**
 * Stream events across processes on Redis Streams: the worker executing a run XADDs its
 * chunks; the API process holding the client's connection XREADs them. Stream ids double
 * as SSE event ids, so a client reconnecting (to any API process) with Last-Event-ID
 * resumes exactly after the last chunk it saw. Finished streams expire after `retainMs`.
 */
import { Redis } from 'ioredis';
import type { EventBus, StreamEvent, SubscribeOptions } from './bus.js';

const END = '__end__';

export class RedisEventBus implements EventBus {
  private readonly writer: Redis;
  private readonly readers = new Set<Redis>();
  private closed = false;

  constructor(
    private readonly redisUrl: string,
    private readonly opts: { prefix?: string; retainMs?: number; maxLen?: number; onError?: (err: Error) => void } = {},
  ) {
    this.writer = new Redis(redisUrl, { maxRetriesPerRequest: null });
    this.writer.on('error', (err) => opts.onError?.(err));
  }

  private key(channel: string): string {
    return `${this.opts.prefix ?? 'codemie'}:stream:${channel}`;
  }

  async publish(channel: string, data: unknown): Promise<string> {
    const id = await this.writer.xadd(this.key(channel), 'MAXLEN', '~', String(this.opts.maxLen ?? 10_000), '*', 'd', JSON.stringify(data));
    return id as string;
  }

  async end(channel: string): Promise<void> {
    const key = this.key(channel);
    await this.writer.multi().xadd(key, '*', END, '1').pexpire(key, this.opts.retainMs ?? 5 * 60_000).exec();
  }

  async *subscribe(channel: string, opts: SubscribeOptions = {}): AsyncIterable<StreamEvent> {
    const key = this.key(channel);
    // A blocking read needs a connection of its own.
    const reader = this.writer.duplicate();
    reader.on('error', (err) => this.opts.onError?.(err));
    this.readers.add(reader);
    const onAbort = () => reader.disconnect();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let lastId = opts.afterId && /^\d+-\d+$/.test(opts.afterId) ? opts.afterId : '0-0';
    try {
      for (;;) {
        if (opts.signal?.aborted || this.closed) return;
        let res: [string, [string, string[]][]][] | null;
        try {
          res = (await reader.xread('COUNT', 500, 'BLOCK', 5000, 'STREAMS', key, lastId)) as typeof res;
        } catch (err) {
          if (opts.signal?.aborted || this.closed) return;
          throw err;
        }
        if (!res) continue;
        for (const [, entries] of res) {
          for (const [id, fields] of entries) {
            lastId = id;
            if (fields[0] === END) return;
            yield { id, data: JSON.parse(fields[1]) };
          }
        }
      }
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      this.readers.delete(reader);
      reader.disconnect();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const r of this.readers) r.disconnect();
    await this.writer.quit().catch(() => undefined);
  }
}
