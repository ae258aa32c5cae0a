/** Copies an object without its undefined properties (so they are not sent on the wire). */
export function compact<T extends Record<string, unknown>>(obj: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[k] = v;
  return out as Partial<T>;
}

/** Encodes one path segment (ids, names). */
export function seg(value: string | number): string {
  return encodeURIComponent(String(value));
}

/** Encodes a value that may itself contain `/` (slugs, file names): each part is encoded. */
export function pathSegs(value: string): string {
  return value.split('/').map(encodeURIComponent).join('/');
}

/** The items of a list answer, whether it is a bare array or the `{data, pagination}` envelope. */
export function items<T>(answer: unknown): T[] {
  if (Array.isArray(answer)) return answer as T[];
  if (answer && typeof answer === 'object' && Array.isArray((answer as { data?: unknown }).data)) {
    return (answer as { data: T[] }).data;
  }
  return [];
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('Aborted'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason ?? new Error('Aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
