/**
 * A tiny spec-compliant Server-Sent Events parser for tests (WHATWG HTML §9.2.6):
 * lines end in CRLF, LF or CR; `:` lines are comments; `data` lines are joined with "\n";
 * an empty line dispatches; a single leading space after the colon is dropped.
 */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  let data: string[] = [];
  let event = '';
  let id: string | undefined;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') {
      if (data.length) events.push({ id, event: event || 'message', data: data.join('\n') });
      data = [];
      event = '';
      continue;
    }
    if (line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? '' : line.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id' && !value.includes('\0')) id = value;
  }
  return events;
}

/** fetch, typed for tests that read JSON bodies loosely (`json()` is `any`, not `unknown`). */
export type JsonResponse = Omit<Response, 'json'> & { json(): Promise<any> };
export const http = (input: string, init?: RequestInit): Promise<JsonResponse> => fetch(input, init);
