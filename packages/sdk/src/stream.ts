/**
 * Turns a streamed response body into parsed chunk objects.
 *
 * Three wire formats are understood, so the SDK works against this platform and the reference one:
 * - Server-Sent Events (`text/event-stream`): one chunk per event, `data:` lines joined; comment lines
 *   (heartbeats, `: ping`) and `id:`/`retry:` fields are ignored; `event: error` raises.
 * - NDJSON (`application/x-ndjson`): one JSON value per line.
 * - Concatenated JSON objects with no separator at all (`{...}{...}`), as the reference backend writes
 *   assistant streams.
 * NDJSON and concatenated JSON are read by the same scanner (any whitespace between values is allowed).
 * When the content type says neither, the first non-blank character decides (`{`/`[` → JSON, else SSE).
 */
import { CodeMieApiError, CodeMieError, parseErrorBody } from './errors.js';

type Format = 'sse' | 'json';

function formatFromContentType(contentType: string | null): Format | null {
  const ct = (contentType ?? '').toLowerCase();
  if (ct.includes('text/event-stream')) return 'sse';
  if (ct.includes('ndjson') || ct.includes('jsonl') || ct.includes('json')) return 'json';
  return null;
}

async function* decodeText(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder('utf-8');
  let done = false;
  try {
    while (true) {
      const r = await reader.read();
      if (r.done) break;
      const text = decoder.decode(r.value, { stream: true });
      if (text) yield text;
    }
    const tail = decoder.decode();
    if (tail) yield tail;
    done = true;
  } finally {
    if (!done) {
      // the consumer stopped early (break/return/throw): stop the download
      await reader.cancel().catch(() => undefined);
    }
    reader.releaseLock();
  }
}

/** Incremental scanner for a sequence of JSON values (NDJSON or back-to-back objects). */
export class JsonSequenceParser {
  private buf = '';
  private pos = 0;

  push(text: string): unknown[] {
    this.buf += text;
    const out: unknown[] = [];
    while (true) {
      const value = this.next();
      if (value === NONE) break;
      out.push(value);
    }
    // drop consumed text
    if (this.pos > 0) {
      this.buf = this.buf.slice(this.pos);
      this.pos = 0;
    }
    return out;
  }

  /** Call at end of stream; throws when unparsed non-whitespace text remains. */
  end(): unknown[] {
    const out = this.push('');
    const rest = this.buf.trim();
    if (rest !== '') {
      // a trailing scalar (e.g. a bare number) or a truncated object
      try {
        out.push(JSON.parse(rest));
      } catch {
        throw new CodeMieError(`Stream ended in the middle of a JSON value: ${rest.slice(0, 200)}`);
      }
      this.buf = '';
    }
    return out;
  }

  private next(): unknown {
    const s = this.buf;
    let i = this.pos;
    while (i < s.length && /\s/.test(s[i]!)) i++;
    if (i >= s.length) {
      this.pos = i;
      return NONE;
    }
    const first = s[i];
    if (first !== '{' && first !== '[') {
      // a scalar on its own line (NDJSON allows it): needs a newline to know it is complete
      const nl = s.indexOf('\n', i);
      if (nl < 0) return NONE;
      const line = s.slice(i, nl).trim();
      this.pos = nl + 1;
      try {
        return JSON.parse(line);
      } catch {
        throw new CodeMieError(`Malformed JSON in stream: ${line.slice(0, 200)}`);
      }
    }
    let depth = 0;
    let inString = false;
    let escaped = false;
    for (let j = i; j < s.length; j++) {
      const c = s[j];
      if (inString) {
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') inString = false;
        continue;
      }
      if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) {
          const raw = s.slice(i, j + 1);
          this.pos = j + 1;
          try {
            return JSON.parse(raw);
          } catch {
            throw new CodeMieError(`Malformed JSON in stream: ${raw.slice(0, 200)}`);
          }
        }
      }
    }
    return NONE; // incomplete: wait for more text
  }
}

const NONE = Symbol('none');

interface SseEvent {
  event: string;
  data: string;
  id: string | null;
}

/** Incremental Server-Sent Events parser (WHATWG event-stream rules). */
export class SseParser {
  private buf = '';
  private data: string[] = [];
  private event = '';
  private id: string | null = null;
  /** Last `id:` seen, for resuming with Last-Event-ID. */
  lastEventId: string | null = null;

  push(text: string): SseEvent[] {
    this.buf += text;
    const out: SseEvent[] = [];
    while (true) {
      const m = /\r\n|\r|\n/.exec(this.buf);
      if (!m) break;
      // a lone \r at the very end might be the first half of \r\n: wait for more
      if (m[0] === '\r' && m.index === this.buf.length - 1) break;
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      const ev = this.line(line);
      if (ev) out.push(ev);
    }
    return out;
  }

  end(): SseEvent[] {
    const out: SseEvent[] = [];
    if (this.buf !== '') {
      const ev = this.line(this.buf);
      this.buf = '';
      if (ev) out.push(ev);
    }
    const ev = this.line('');
    if (ev) out.push(ev);
    return out;
  }

  private line(line: string): SseEvent | null {
    if (line === '') {
      if (this.data.length === 0) {
        this.event = '';
        return null;
      }
      const ev = { event: this.event || 'message', data: this.data.join('\n'), id: this.id };
      this.data = [];
      this.event = '';
      return ev;
    }
    if (line.startsWith(':')) return null; // comment / heartbeat
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.event = value;
        break;
      case 'id':
        if (!value.includes('\0')) {
          this.id = value;
          this.lastEventId = value;
        }
        break;
      default:
        break; // retry and unknown fields
    }
    return null;
  }
}

function sseChunk(ev: SseEvent, status: number): unknown | typeof NONE {
  const data = ev.data;
  if (data.trim() === '' || data.trim() === '[DONE]') return NONE;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    if (ev.event === 'error') {
      throw new CodeMieApiError({ status, message: data });
    }
    throw new CodeMieError(`Malformed JSON in event stream: ${data.slice(0, 200)}`);
  }
  if (ev.event === 'error') {
    const parsed = parseErrorBody(value, 'Stream error');
    throw new CodeMieApiError({ status, ...parsed, body: value });
  }
  return value;
}

/**
 * Parses a streamed body into chunk objects. The returned generator cancels the download when the
 * consumer stops early.
 */
export async function* parseStream<T = unknown>(
  body: ReadableStream<Uint8Array> | null,
  contentType: string | null,
  status = 200,
): AsyncGenerator<T> {
  if (!body) return;
  let format = formatFromContentType(contentType);
  let sse: SseParser | null = null;
  let json: JsonSequenceParser | null = null;
  let pending = '';
  for await (const text of decodeText(body)) {
    if (!format) {
      pending += text;
      const trimmed = pending.trimStart();
      if (trimmed === '') continue;
      format = trimmed[0] === '{' || trimmed[0] === '[' ? 'json' : 'sse';
    }
    const input = pending !== '' ? pending : text;
    pending = '';
    if (format === 'sse') {
      sse ??= new SseParser();
      for (const ev of sse.push(input)) {
        const v = sseChunk(ev, status);
        if (v !== NONE) yield v as T;
      }
    } else {
      json ??= new JsonSequenceParser();
      for (const v of json.push(input)) yield v as T;
    }
  }
  if (sse) {
    for (const ev of sse.end()) {
      const v = sseChunk(ev, status);
      if (v !== NONE) yield v as T;
    }
  }
  if (json) {
    for (const v of json.end()) yield v as T;
  }
}
