/**
 * Assistant calls paused before a tool call the user must approve (`tool_permissions`): the paused
 * turn is stored per (assistant, conversation), so `POST /assistants/{id}/model/tool-call/resume`
 * works from any API process; resuming claims (deletes) it atomically, so a decision runs once.
 *
 * Policies: `auto_approve` never asks; `ask_for_approval` asks before every tool call;
 * `approve_for_me` runs tools that declare themselves read-only (MCP readOnlyHint) without asking
 * and asks for the rest. Delegations to sub-assistants never ask (their tools follow their own
 * policy; a delegated tool that would need approval is refused inside the delegation).
 */
import type { Kysely } from 'kysely';
import type { AuthUser } from '../api/auth.js';
import { ApiError } from '../api/errors.js';
import type { AgentTool } from '../llm/tool.js';
import type { ChatMessage, TokenUsage } from '../llm/types.js';
import type { Database } from '../store/schema.js';
import { fromJson, toJson } from '../store/json.js';
import { newRowId } from '../store/ids.js';
import type { PendingToolCall } from '../turn/run-turn.js';
import type { Thought } from '../wire/thought.js';
import type { ChatBody, ToolPermissions } from './schemas.js';

export type ToolCallPolicy = ToolPermissions['tool_call_policy'];

/** What a resumed call needs to continue exactly where it stopped. */
export interface PausedTurn {
  assistantId: string;
  conversationId: string;
  newConversation: boolean;
  userId: string;
  /** The version the call ran (null: the current one). */
  version: number | null;
  body: Pick<ChatBody, 'text' | 'llm_model' | 'system_prompt' | 'output_schema' | 'file_names' | 'save_history' | 'metadata' | 'sub_assistants_versions' | 'history_index'>;
  propagatedHeaders: Record<string, string> | null;
  /** Everything the model was given, and what it did up to the pause. */
  messages: ChatMessage[];
  calls: PendingToolCall[];
  thoughts: Thought[];
  usage: TokenUsage;
  /** The user's message as stored in the conversation. */
  userText: string;
  policy: ToolCallPolicy;
}

/** The call's answer while it waits (`interactiveRequest` / the last chunk's `interactive_request`). */
export function interactiveRequest(p: Pick<PausedTurn, 'assistantId' | 'conversationId' | 'calls'>) {
  return {
    type: 'tool_call_approval',
    assistant_id: p.assistantId,
    conversation_id: p.conversationId,
    tool_calls: p.calls.map((c) => ({ id: c.id, name: c.name, arguments: c.input, thought_id: c.thoughtId })),
    actions: ['allow', 'deny'],
    resume_path: `/v1/assistants/${p.assistantId}/model/tool-call/resume`,
  };
}

export function pausedMessage(calls: PendingToolCall[]): string {
  const names = [...new Set(calls.map((c) => c.name))].map((n) => `'${n}'`).join(', ');
  return `The assistant wants to call ${names} and is waiting for your approval. Resume with action "allow" or "deny".`;
}

/** Whether a call of `tool` must wait for the user under `policy`. */
export function approvalRule(policy: ToolCallPolicy, isDelegation: (t: AgentTool) => boolean): ((t: AgentTool) => boolean) | undefined {
  if (policy === 'auto_approve') return undefined;
  return (t) => !isDelegation(t) && (policy === 'ask_for_approval' || t.readOnly !== true);
}

export class ApprovalStore {
  constructor(private readonly db: Kysely<Database>) {}

  async save(p: PausedTurn): Promise<void> {
    const row = { id: newRowId(), assistant_id: p.assistantId, conversation_id: p.conversationId, user_id: p.userId, payload: toJson(p), date: new Date().toISOString() };
    await this.db
      .insertInto('assistant_tool_approvals')
      .values(row)
      .onConflict((oc) => oc.columns(['assistant_id', 'conversation_id']).doUpdateSet({ user_id: row.user_id, payload: row.payload, date: row.date }))
      .execute();
  }

  /** Takes the paused turn for this user: 404 when none waits, 403 when it is someone else's. */
  async claim(assistantId: string, conversationId: string, user: AuthUser): Promise<PausedTurn> {
    const notFound = new ApiError(
      404,
      'No pending tool call',
      `No tool call of assistant '${assistantId}' is waiting for approval in conversation '${conversationId}'.`,
      'Only a call paused for approval (tool_permissions) can be resumed, once.',
    );
    const row = await this.db
      .selectFrom('assistant_tool_approvals')
      .selectAll()
      .where('assistant_id', '=', assistantId)
      .where('conversation_id', '=', conversationId)
      .executeTakeFirst();
    if (!row) throw notFound;
    if (row.user_id !== user.id) {
      throw new ApiError(403, 'Access denied', 'The pending tool call belongs to another user.', 'Only the user whose call paused can approve or reject it.');
    }
    const r = await this.db.deleteFrom('assistant_tool_approvals').where('id', '=', row.id).executeTakeFirst();
    if (!Number(r.numDeletedRows)) throw notFound; // resumed meanwhile by another request
    return fromJson<PausedTurn>(row.payload, null as never);
  }
}
