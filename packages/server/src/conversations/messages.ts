/**
 * History messages: the reference's GeneratedMessage kept as a row (role, text, turn index,
 * date, position) plus a JSON `data` column for the rest; read back in position order.
 */
import type { Selectable } from 'kysely';
import type { Thought } from '../wire/thought.js';
import { fromJson } from '../store/json.js';
import type { ConversationMessagesTable } from './tables.js';
import type { WireMessage } from './schemas.js';

export interface Mark {
  mark: string;
  rating?: number | null;
  comments?: string | null;
  date: string;
  type?: string | null;
  feedback_id?: string | null;
  [k: string]: unknown;
}

export interface GeneratedMessage {
  role: 'User' | 'Assistant' | (string & {});
  message: string;
  historyIndex: number;
  date: string;
  responseTime?: number | null;
  inputTokens?: number | null;
  outputTokens?: number | null;
  cacheCreationInputTokens?: number | null;
  cacheReadInputTokens?: number | null;
  moneySpent?: number | null;
  userMark?: Mark | null;
  operatorMark?: Mark | null;
  messageRaw?: string | null;
  fileNames?: string[];
  assistantId?: string | null;
  thoughts?: Thought[] | Array<Record<string, unknown>> | null;
  workflowExecutionRef?: boolean | string | null;
  executionId?: string | null;
  executionStatus?: string | null;
  interactiveRequest?: unknown;
  interactiveResponse?: unknown;
  status?: string | null;
}

/** A message as read back: every stored message lists its files (possibly none). */
export type StoredMessage = GeneratedMessage & { fileNames: string[] };

/** A stored message with its row id and position. */
export interface MessageRecord {
  id: string;
  seq: number;
  m: StoredMessage;
}

export function messageFromRow(r: Selectable<ConversationMessagesTable>): StoredMessage {
  return {
    fileNames: [],
    ...fromJson<Partial<GeneratedMessage>>(r.data, {}),
    role: r.role,
    message: r.message,
    historyIndex: r.history_index,
    date: r.date,
  };
}

export function recordFromRow(r: Selectable<ConversationMessagesTable>): MessageRecord {
  return { id: r.id, seq: Number(r.seq), m: messageFromRow(r) };
}

/** The row columns of a message (`data` holds everything but role, text, index and date). */
export function messageColumns(m: GeneratedMessage): { role: string; message: string; history_index: number; date: string; data: string } {
  const { role, message, historyIndex, date, ...rest } = m;
  return { role, message, history_index: historyIndex, date, data: JSON.stringify(rest) };
}

/** The wire shape: every key of the reference's GeneratedMessage present, null when unset. */
export function wireMessage(m: StoredMessage): WireMessage {
  return {
    role: m.role,
    message: m.message ?? '',
    historyIndex: m.historyIndex,
    date: m.date,
    responseTime: m.responseTime ?? null,
    inputTokens: m.inputTokens ?? null,
    outputTokens: m.outputTokens ?? null,
    cacheCreationInputTokens: m.cacheCreationInputTokens ?? null,
    cacheReadInputTokens: m.cacheReadInputTokens ?? null,
    moneySpent: m.moneySpent ?? null,
    userMark: (m.userMark as WireMessage['userMark']) ?? null,
    operatorMark: (m.operatorMark as WireMessage['operatorMark']) ?? null,
    messageRaw: m.messageRaw ?? null,
    fileNames: m.fileNames ?? [],
    assistantId: m.assistantId ?? null,
    thoughts: (m.thoughts as WireMessage['thoughts']) ?? null,
    workflowExecutionRef: m.workflowExecutionRef ?? null,
    executionId: m.executionId ?? null,
    executionStatus: m.executionStatus ?? null,
    interactiveRequest: m.interactiveRequest ?? null,
    interactiveResponse: m.interactiveResponse ?? null,
    ...(m.status ? { status: m.status } : {}),
  };
}

/** Python's html.escape(s, quote=True), which the reference applies to imported texts for messageRaw. */
export function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;');
}

/** The reference's conversation name from a first message: 50 characters, then "...". */
export function nameFrom(text: string | null | undefined): string {
  const t = text ?? '';
  return t.length > 50 ? `${t.slice(0, 50)}...` : t;
}

/**
 * The messages a model sees: one per (role, turn) in first-appearance order, with the text of the
 * turn's latest variant (regenerations and edits are appended, never replaced in place).
 * `beforeIndex`: only turns before it (a regeneration of that turn).
 */
export function latestVariants(history: StoredMessage[], beforeIndex?: number | null): StoredMessage[] {
  const order: string[] = [];
  const last = new Map<string, StoredMessage>();
  for (const m of history) {
    if (beforeIndex != null && m.historyIndex >= beforeIndex) continue;
    const key = `${m.role}\u0000${m.historyIndex}`;
    if (!last.has(key)) order.push(key);
    last.set(key, m);
  }
  return order.map((k) => last.get(k)!);
}

/** The files a history refers to, without repeats, in order of first mention. */
export function historyFiles(history: StoredMessage[]): string[] {
  return [...new Set(history.flatMap((m) => m.fileNames ?? []).filter((f) => typeof f === 'string' && f))];
}

/** A mark's numeric rating when none was given (the reference's metrics: correct 100, partially 50, wrong 0). */
export function ratingOf(mark: string): number {
  return mark === 'correct' ? 100 : mark === 'partially correct' ? 50 : 0;
}
