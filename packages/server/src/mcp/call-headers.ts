/**
 * Per-call propagated headers for pooled HTTP connections. One MCP connection is shared by
 * concurrent requests, so the headers cannot live on the transport: each tools/list and
 * tools/call runs inside `withCallHeaders(headers, ...)`, and the transport's fetch reads
 * the current call's headers from AsyncLocalStorage when it sends that call's HTTP request.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const store = new AsyncLocalStorage<Record<string, string> | null>();

export function withCallHeaders<T>(headers: Record<string, string> | null, fn: () => Promise<T>): Promise<T> {
  return store.run(headers, fn);
}

/** Outside any call (e.g. connecting a pooled connection): no propagated headers. */
export function withoutCallHeaders<T>(fn: () => Promise<T>): Promise<T> {
  return store.run(null, fn);
}

type FetchLike = (url: string | URL, init?: RequestInit) => Promise<Response>;

/**
 * A fetch that adds the current call's propagated headers. Headers already on the request
 * (the MCP protocol's own, and the server config's `headers`) win over propagated ones.
 */
export function fetchWithCallHeaders(base: FetchLike = fetch): FetchLike {
  return (url, init) => {
    const extra = store.getStore();
    if (!extra) return base(url, init);
    const headers = new Headers(init?.headers);
    for (const [name, value] of Object.entries(extra)) if (!headers.has(name)) headers.set(name, value);
    return base(url, { ...init, headers });
  };
}
