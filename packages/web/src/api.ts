/** Calls to the platform API with the in-memory token (one refresh and retry on 401), and NDJSON streams. */
import type { components } from '../../sdk/src/generated/api';
import { auth } from './auth';

export type Schemas = components['schemas'];
export type Assistant = Schemas['Assistant'];
export type StreamChunk = Schemas['StreamChunk'];
export type Thought = Schemas['Thought'];
export type Workflow = Schemas['Workflow'];
export type Execution = Schemas['WorkflowExecution'];
export type ExecutionState = Schemas['WorkflowExecutionState'];

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

async function send(path: string, init: RequestInit, retry = true): Promise<Response> {
  const headers = new Headers(init.headers);
  if (auth.token) headers.set('authorization', `Bearer ${auth.token}`);
  const res = await fetch(`/v1${path}`, { ...init, headers });
  if (res.status === 401 && retry && (await auth.refreshNow())) return send(path, init, false);
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: { message?: string; details?: unknown } } | null;
    const details = body?.error?.details;
    const text = [body?.error?.message ?? `HTTP ${res.status}`, typeof details === 'string' ? details : ''].filter(Boolean).join(': ');
    throw new ApiFailure(res.status, text, details);
  }
  return res;
}

export async function api<T>(path: string, opts: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const res = await send(path, {
    method: opts.method ?? 'GET',
    headers: opts.body !== undefined ? { 'content-type': 'application/json' } : {},
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
    signal: opts.signal,
  });
  const text = await res.text();
  return (text ? JSON.parse(text) : null) as T;
}

/** POSTs/PUTs and reads the answer as NDJSON StreamChunks, calling `onChunk` for each as it arrives. */
export async function stream(path: string, opts: { method?: string; body?: unknown; signal?: AbortSignal }, onChunk: (c: StreamChunk) => void): Promise<void> {
  const res = await send(path, {
    method: opts.method ?? 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
    body: JSON.stringify(opts.body ?? {}),
    signal: opts.signal,
  });
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) onChunk(JSON.parse(line) as StreamChunk);
    }
  }
  if (buf.trim()) onChunk(JSON.parse(buf) as StreamChunk);
}

export interface Page<T> {
  data: T[];
  pagination: { page: number; pages: number; total: number; per_page: number };
}
