/**
 * Retries of a model call that failed before answering (the AI SDK's rule: APICallError with
 * isRetryable — timeouts, conflicts, rate limits, server errors, no connection), with exponential
 * backoff or the provider's retry-after(-ms) when it is sane. A call that has started answering is
 * never repeated.
 */
import { APICallError } from 'ai';

const RETRY_INITIAL_MS = 2000;
const RETRY_FACTOR = 2;

/** Delay before the next attempt: the server's retry-after(-ms) when sane, else the backoff. */
export function retryDelay(headers: Record<string, string> | undefined, backoff: number): number {
  let ms: number | undefined;
  const rms = headers?.['retry-after-ms'];
  if (typeof rms === 'string' && !Number.isNaN(parseFloat(rms))) ms = parseFloat(rms);
  const ra = headers?.['retry-after'];
  if (ms === undefined && typeof ra === 'string') {
    const s = parseFloat(ra);
    ms = Number.isNaN(s) ? Date.parse(ra) - Date.now() : s * 1000;
  }
  return ms !== undefined && !Number.isNaN(ms) && ms >= 0 && (ms < 60_000 || ms < backoff) ? ms : backoff;
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** `attempt()` again on retryable provider failures, up to `maxRetries` more times. */
export async function withRetries<T>(attempt: () => Promise<T>, maxRetries: number, signal: AbortSignal): Promise<T> {
  let backoff = RETRY_INITIAL_MS;
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (signal.aborted || n >= maxRetries || !APICallError.isInstance(err) || !err.isRetryable) throw err;
      await sleep(retryDelay(err.responseHeaders, backoff), signal);
      backoff *= RETRY_FACTOR;
    }
  }
}
