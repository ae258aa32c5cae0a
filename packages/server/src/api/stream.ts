/**
 * Writes a stream of chunks to the client as Server-Sent Events (default) or NDJSON
 * (`Accept: application/x-ndjson`). Headers stop proxies from buffering, heartbeats keep
 * idle connections alive, and a client disconnect aborts `signal` so producers stop.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

export type StreamFormat = 'sse' | 'ndjson';

export interface OutChunk {
  /** Event id (SSE `id:`), so a client can resume with Last-Event-ID. */
  id?: string;
  data: unknown;
}

/** How long the response headers wait for the first chunk to travel with. */
const HEADERS_ALONE_AFTER_MS = 50;

export function negotiateStreamFormat(req: FastifyRequest): StreamFormat {
  const accept = String(req.headers.accept ?? '');
  return /application\/(x-)?ndjson/i.test(accept) && !/text\/event-stream/i.test(accept) ? 'ndjson' : 'sse';
}

export interface StreamWriter {
  /** Fires when the client goes away (or the stream is closed by us). */
  signal: AbortSignal;
  /** The controller behind `signal`, for a producer that may abort the call itself (see AgentRequest.controller). */
  controller: AbortController;
  write(chunk: OutChunk): Promise<void>;
  end(): void;
}

export function openStream(
  req: FastifyRequest,
  reply: FastifyReply,
  format: StreamFormat,
  opts: { heartbeatMs?: number; headers?: Record<string, string>; controller?: AbortController } = {},
): StreamWriter {
  const res = reply.raw;
  const controller = opts.controller ?? new AbortController();
  reply.hijack();
  res.writeHead(200, {
    'content-type': format === 'sse' ? 'text/event-stream; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
    'x-request-id': req.id,
    ...opts.headers,
  });
  // The headers leave with the first chunk when it comes soon (one packet, one read for the
  // client), else on their own after HEADERS_ALONE_AFTER_MS so the client knows the call started.
  const headersAlone = setTimeout(() => res.flushHeaders(), HEADERS_ALONE_AFTER_MS);
  let ended = false;
  const onClose = () => {
    ended = true;
    clearTimeout(headersAlone);
    clearInterval(heartbeat);
    controller.abort('client disconnected');
  };
  res.on('close', onClose);
  const heartbeat = setInterval(() => {
    if (!ended) res.write(format === 'sse' ? ': heartbeat\n\n' : '\n');
  }, opts.heartbeatMs ?? 15_000);
  heartbeat.unref();

  // Chunks produced in the same tick (several tokens read from one upstream packet) leave in one
  // socket write: corked now, flushed on the next tick, so nothing waits longer than that.
  let corked = false;
  const uncork = () => {
    corked = false;
    res.uncork();
  };

  return {
    signal: controller.signal,
    controller,
    async write(chunk) {
      if (ended) return;
      const json = JSON.stringify(chunk.data);
      const text = format === 'sse' ? `${chunk.id !== undefined ? `id: ${chunk.id}\n` : ''}data: ${json}\n\n` : `${json}\n`;
      if (!corked) {
        clearTimeout(headersAlone);
        corked = true;
        res.cork();
        process.nextTick(uncork);
      }
      if (!res.write(text)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
      }
    },
    end() {
      if (ended) return;
      ended = true;
      clearTimeout(headersAlone);
      clearInterval(heartbeat);
      res.off('close', onClose);
      res.end();
    },
  };
}
