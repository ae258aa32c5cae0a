/** The CodeMie caller as the A2A SDK sees it (its `User`), carried through the SDK's call context. */
import type { Message } from '@a2a-js/sdk';
import type { ServerCallContext, User } from '@a2a-js/sdk/server';
import type { AuthUser } from '../../api/auth.js';
import type { AssistantRecord } from '../repo.js';

/** Key of the called assistant in the SDK's call-context state. */
export const ASSISTANT_STATE_KEY = 'codemie.assistant';
/** Key of the loader of a context's earlier messages (a follow-up task in the same contextId). */
export const CONTEXT_HISTORY_KEY = 'codemie.contextHistory';

export type ContextHistory = (contextId: string, exceptTaskId: string) => Promise<Message[]>;

export class A2aCaller implements User {
  constructor(readonly auth: AuthUser) {}

  get isAuthenticated(): boolean {
    return true;
  }

  get userName(): string {
    return this.auth.id;
  }
}

export function callerOf(context: ServerCallContext): AuthUser {
  const u = context.user;
  if (u instanceof A2aCaller) return u.auth;
  throw new Error('A2A call without a CodeMie caller');
}

export function assistantOf(context: ServerCallContext): AssistantRecord {
  const a = context.state.get(ASSISTANT_STATE_KEY);
  if (!a) throw new Error('A2A call without an assistant');
  return a as AssistantRecord;
}

export function contextHistoryOf(context: ServerCallContext): ContextHistory | undefined {
  return context.state.get(CONTEXT_HISTORY_KEY) as ContextHistory | undefined;
}
