/**
 * The one place requests are made: URL building, headers, bearer token, exactly one re-authentication
 * and retry after a 401, error typing and streaming.
 */
import type { TokenProvider } from './auth.js';
import { CodeMieApiError, CodeMieAuthError, CodeMieError, NotFoundError, parseErrorBody } from './errors.js';
import { parseStream } from './stream.js';
import type { FetchLike } from './tls.js';
import { VERSION } from './version.js';

/** Query parameters: arrays repeat the key, objects are sent as JSON, undefined/null are left out. */
export type Query = Record<string, unknown>;

export interface RequestOptions {
  query?: Query;
  /** JSON body (undefined properties are dropped by JSON.stringify). */
  json?: unknown;
  /** Multipart body. */
  form?: FormData;
  /** Extra HTTP headers for this request. */
  headers?: Record<string, string | undefined>;
  /** Abort signal for this request. */
  signal?: AbortSignal;
}

export interface HttpSettings {
  baseUrl: string;
  tokens: TokenProvider;
  getFetch: () => Promise<FetchLike>;
  cookies?: string;
  defaultHeaders?: Record<string, string>;
}

/** A streamed response: iterate it with `for await`; `cancel()` stops the download. */
export class CodeMieStream<T> implements AsyncIterable<T> {
  private iterator: AsyncGenerator<T> | null = null;
  private used = false;

  constructor(
    private readonly res: Response,
    /** HTTP status of the streamed response. */
    readonly status: number,
  ) {}

  /** Response headers (e.g. `content-type`, `x-request-id`). */
  get headers(): Headers {
    return this.res.headers;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.used) throw new CodeMieError('A stream can be iterated only once');
    this.used = true;
    this.iterator = parseStream<T>(this.res.body, this.res.headers.get('content-type'), this.status);
    return this.iterator;
  }

  /** Reads the whole stream into an array. */
  async toArray(): Promise<T[]> {
    const out: T[] = [];
    for await (const chunk of this) out.push(chunk);
    return out;
  }

  /** Stops reading and closes the connection. */
  async cancel(): Promise<void> {
    if (this.iterator) await this.iterator.return(undefined as never);
    else if (!this.used) {
      this.used = true;
      await this.res.body?.cancel().catch(() => undefined);
    }
  }
}

function appendQuery(params: URLSearchParams, key: string, value: unknown): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    for (const v of value) params.append(key, String(v));
  } else if (typeof value === 'object') {
    params.append(key, JSON.stringify(value));
  } else {
    params.append(key, String(value));
  }
}

export class HttpClient {
  readonly baseUrl: string;

  constructor(private readonly s: HttpSettings) {
    this.baseUrl = s.baseUrl.replace(/\/+$/, '');
  }

  url(path: string, query?: Query): string {
    let url = this.baseUrl + (path.startsWith('/') ? path : `/${path}`);
    if (query) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) appendQuery(params, k, v);
      const qs = params.toString();
      if (qs) url += (url.includes('?') ? '&' : '?') + qs;
    }
    return url;
  }

  async get<T>(path: string, opts?: RequestOptions): Promise<T> {
    return this.request<T>('GET', path, opts);
  }
  async post<T>(path: string, opts?: RequestOptions): Promise<T> {
    return this.request<T>('POST', path, opts);
  }
  async put<T>(path: string, opts?: RequestOptions): Promise<T> {
    return this.request<T>('PUT', path, opts);
  }
  async patch<T>(path: string, opts?: RequestOptions): Promise<T> {
    return this.request<T>('PATCH', path, opts);
  }
  async delete<T>(path: string, opts?: RequestOptions): Promise<T> {
    return this.request<T>('DELETE', path, opts);
  }

  /** Sends a request and parses the JSON (or text) answer; non-2xx statuses throw typed errors. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, opts, 'application/json');
    return (await readBody(res)) as T;
  }

  /** Sends a request whose answer is streamed; resolves once the response headers arrived. */
  async stream<T>(method: string, path: string, opts: RequestOptions = {}): Promise<CodeMieStream<T>> {
    const res = await this.send(method, path, opts, 'text/event-stream, application/x-ndjson;q=0.9, application/json;q=0.8');
    return new CodeMieStream<T>(res, res.status);
  }

  /** Sends a request and hands back the successful Response as is (for binary downloads). */
  async raw(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    return this.send(method, path, opts, '*/*');
  }

  private async headers(opts: RequestOptions, accept: string): Promise<{ h: Record<string, string>; token: string | null }> {
    const h: Record<string, string> = {
      Accept: accept,
      'User-Agent': `codemie-sdk-node/${VERSION}`,
      ...this.s.defaultHeaders,
    };
    if (opts.json !== undefined) h['Content-Type'] = 'application/json';
    const token = await this.s.tokens.getToken();
    if (token) h.Authorization = `Bearer ${token}`;
    if (this.s.cookies) h.Cookie = this.s.cookies;
    for (const [k, v] of Object.entries(opts.headers ?? {})) {
      if (v === undefined) continue;
      // replace a default of the same name whatever its case
      for (const existing of Object.keys(h)) if (existing.toLowerCase() === k.toLowerCase()) delete h[existing];
      h[k] = v;
    }
    return { h, token };
  }

  private async send(method: string, path: string, opts: RequestOptions, accept: string): Promise<Response> {
    const url = this.url(path, opts.query);
    const body = opts.form ?? (opts.json !== undefined ? JSON.stringify(opts.json) : undefined);
    let retried = false;
    while (true) {
      const fetchImpl = await this.s.getFetch();
      const { h: headers, token } = await this.headers(opts, accept);
      let res: Response;
      try {
        res = await fetchImpl(url, { method, headers, body, signal: opts.signal });
      } catch (err) {
        if ((err as Error)?.name === 'AbortError') throw err;
        const cause = (err as { cause?: { message?: string } }).cause;
        const why = cause?.message ? `${(err as Error).message} (${cause.message})` : (err as Error).message;
        throw new CodeMieError(`${method} ${url} failed: ${why}`, { cause: err });
      }
      if (res.ok) return res;
      if (res.status === 401 && !retried && (await this.s.tokens.reauthenticate(token))) {
        retried = true;
        await res.body?.cancel().catch(() => undefined);
        continue;
      }
      throw await toError(res, method, url);
    }
  }
}

async function readBody(res: Response): Promise<unknown> {
  if (res.status === 204 || res.status === 205) return undefined;
  const text = await res.text();
  if (text === '') return undefined;
  const ct = (res.headers.get('content-type') ?? '').toLowerCase();
  if (ct.includes('json') || /^\s*[[{"]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      if (ct.includes('json')) throw new CodeMieError(`Malformed JSON in response: ${text.slice(0, 200)}`);
    }
  }
  return text;
}

export async function toError(res: Response, method: string, url: string): Promise<CodeMieApiError> {
  let body: unknown;
  try {
    const text = await res.text();
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
  } catch {
    body = null;
  }
  const parsed = parseErrorBody(body, `${res.status} ${res.statusText || 'Error'}`.trim());
  const init = {
    status: res.status,
    ...parsed,
    body,
    url,
    method,
    requestId: res.headers.get('x-request-id'),
  };
  if (res.status === 401) return new CodeMieAuthError(init);
  if (res.status === 404) return new NotFoundError(init);
  return new CodeMieApiError(init);
}
