import { describe, expect, it } from 'vitest';
import { MemoryEventBus, type StreamEvent } from './bus.js';

async function collect(it: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

describe('memory event bus', () => {
  it('delivers live events in order and completes on end', async () => {
    const bus = new MemoryEventBus();
    const got = collect(bus.subscribe('c'));
    await bus.publish('c', { n: 1 });
    await bus.publish('c', { n: 2 });
    await bus.end('c');
    expect((await got).map((e) => [e.id, e.data])).toEqual([
      ['1', { n: 1 }],
      ['2', { n: 2 }],
    ]);
    await bus.close();
  });

  it('replays after Last-Event-ID without gaps, also after the end', async () => {
    const bus = new MemoryEventBus();
    for (let i = 1; i <= 5; i++) await bus.publish('r', i);
    await bus.end('r');
    expect((await collect(bus.subscribe('r', { afterId: '3' }))).map((e) => e.data)).toEqual([4, 5]);
    expect((await collect(bus.subscribe('r'))).map((e) => e.data)).toEqual([1, 2, 3, 4, 5]);
    await bus.close();
  });

  it('serves several subscribers independently and stops on abort', async () => {
    const bus = new MemoryEventBus();
    const ac = new AbortController();
    const a = collect(bus.subscribe('m'));
    const b = collect(bus.subscribe('m', { signal: ac.signal }));
    await bus.publish('m', 'x');
    await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    await bus.publish('m', 'y');
    await bus.end('m');
    expect((await a).map((e) => e.data)).toEqual(['x', 'y']);
    expect((await b).map((e) => e.data)).toEqual(['x']);
    await bus.close();
  });

  it('keeps only the newest events when a channel overflows', async () => {
    const bus = new MemoryEventBus(1000, 3);
    for (let i = 1; i <= 6; i++) await bus.publish('o', i);
    await bus.end('o');
    expect((await collect(bus.subscribe('o'))).map((e) => e.id)).toEqual(['4', '5', '6']);
    await bus.close();
  });
});
