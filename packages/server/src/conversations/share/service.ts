/**
 * Share links (reference routers/share.py, with the rules): a link is a read-only
 * SNAPSHOT of the conversation taken when the link is made, opened with an unguessable token
 * (192 random bits, only its SHA-256 kept) by anyone holding it, with or without an account;
 * revocable. The snapshot holds the names and texts of the conversation and nothing else: no
 * owner id, project, thoughts, token counts, costs, marks or file handles (files are listed by
 * name only and are not downloadable through a share), and never another conversation.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { AuthUser } from '../../api/auth.js';
import { ApiError } from '../../api/errors.js';
import { newRowId } from '../../store/ids.js';
import { fromJson } from '../../store/json.js';
import { accessDenied, conversationNotFound } from '../errors.js';
import { latestVariants, nameFrom, type StoredMessage } from '../messages.js';
import { canAccess, type ConversationService } from '../service.js';
import type { ConversationView } from '../schemas.js';

/** What a share link shows, fixed when it was made. */
export interface Snapshot {
  conversation_id: string;
  conversation_name: string;
  /** Creation date of the conversation. */
  date: string;
  initial_assistant_id: string | null;
  assistant_ids: string[];
  assistants: Array<{ assistant_id: string; assistant_name: string; assistant_icon: string | null }>;
  is_workflow: boolean;
  finished_at: string | null;
  history: Array<{ role: string; message: string; historyIndex: number; date: string; assistantId: string | null; fileNames: string[] }>;
}

export const shareNotFound = () =>
  new ApiError(
    404,
    'Shared conversation not found',
    "The shared conversation you're trying to access doesn't exist or has been removed.",
    'Please check the URL and try again.',
  );

const shareIdNotFound = (id: string) =>
  new ApiError(404, 'Share not found', `The share with ID [${id}] could not be found in the system.`, 'Please verify the share ID and try again.');

/** Tokens are base64url of 24 random bytes (32 characters); anything else cannot be one. */
const TOKEN = /^[A-Za-z0-9_-]{32}$/;
const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/** The name of an attached file without its handle (file_url is base64url of `<id>/<name>`). */
function fileLabel(handle: string): string {
  try {
    const s = Buffer.from(handle, 'base64url').toString('utf8');
    const slash = s.indexOf('/');
    if (slash > 0 && /^[0-9a-f-]{36}$/i.test(s.slice(0, slash))) return s.slice(slash + 1) || 'file';
  } catch {
    /* not a handle */
  }
  return 'file';
}

export function takeSnapshot(
  c: { id: string; name: string; date: string; initial_assistant_id: string | null; assistant_ids: string[]; is_workflow: boolean; finished_at: string | null },
  history: StoredMessage[],
  assistants: Snapshot['assistants'],
): Snapshot {
  return {
    conversation_id: c.id,
    conversation_name: c.name || (history.length ? nameFrom(history[0].message) : ''),
    date: c.date,
    initial_assistant_id: c.initial_assistant_id,
    assistant_ids: c.assistant_ids,
    assistants,
    is_workflow: c.is_workflow,
    finished_at: c.finished_at,
    // What the conversation shows now: the latest variant of each turn.
    history: latestVariants(history).map((m) => ({
      role: m.role,
      message: m.message ?? '',
      historyIndex: m.historyIndex,
      date: m.date,
      assistantId: m.assistantId ?? null,
      fileNames: (m.fileNames ?? []).map(fileLabel),
    })),
  };
}

/** The snapshot in the SDK's ConversationDetails shape (keys it requires, filled from the snapshot only). */
export function snapshotView(s: Snapshot, sharedBy: string, sharedAt: string): ConversationView {
  return {
    id: s.conversation_id,
    conversation_id: s.conversation_id,
    conversation_name: s.conversation_name,
    llm_model: null,
    enable_image_generation: null,
    image_generation_model: null,
    folder: null,
    pinned: false,
    history: s.history.map((m) => ({
      role: m.role,
      message: m.message,
      historyIndex: m.historyIndex,
      date: m.date,
      responseTime: null,
      inputTokens: null,
      outputTokens: null,
      cacheCreationInputTokens: null,
      cacheReadInputTokens: null,
      moneySpent: null,
      userMark: null,
      operatorMark: null,
      messageRaw: null,
      fileNames: m.fileNames,
      assistantId: m.assistantId,
      thoughts: [],
      workflowExecutionRef: null,
      executionId: null,
      executionStatus: null,
      interactiveRequest: null,
      interactiveResponse: null,
    })),
    // The owner's identity is not part of a snapshot: the sharer's display name stands for it.
    user_id: '',
    user_name: sharedBy,
    assistant_ids: s.assistant_ids,
    assistant_data: s.assistants.map((a) => ({ ...a, assistant_type: null, context: null, tools: null, conversation_starters: [] })),
    initial_assistant_id: s.initial_assistant_id ?? '',
    final_user_mark: null,
    final_operator_mark: null,
    project: null,
    mcp_server_single_usage: false,
    is_workflow_conversation: s.is_workflow,
    conversation_details: null,
    assistant_details: null,
    user_abilities: ['read'],
    is_folder_migrated: false,
    category: null,
    date: s.date,
    update_date: sharedAt,
    very_first_msg_at: s.history[0]?.date ?? null,
    very_last_msg_at: s.history.at(-1)?.date ?? null,
    finished_at: s.finished_at,
  };
}

export class ShareService {
  constructor(
    private readonly conversations: ConversationService,
    private readonly publicBase: string,
  ) {}

  private get db() {
    return this.conversations.db;
  }

  /** A new link to a snapshot of the conversation as it is now (owner or admin). */
  async create(user: AuthUser, chatId: string) {
    const c = await this.conversations.getFor(chatId, user, 'share');
    const history = await this.conversations.history(chatId);
    const assistantIds = fromJson<string[]>(c.assistant_ids, []);
    const cards = await this.conversations.assistants.assistants(assistantIds, user);
    const snapshot = takeSnapshot(
      {
        id: c.id,
        name: c.name,
        date: c.date,
        initial_assistant_id: c.initial_assistant_id,
        assistant_ids: assistantIds,
        is_workflow: c.is_workflow === 1,
        finished_at: c.finished_at,
      },
      history,
      cards.map((a) => ({ assistant_id: a.assistant_id, assistant_name: a.assistant_name, assistant_icon: a.assistant_icon })),
    );
    const token = randomBytes(24).toString('base64url');
    const id = `share_${newRowId()}`;
    const at = new Date().toISOString();
    await this.db
      .insertInto('conversation_shares')
      .values({
        id,
        conversation_id: c.id,
        token_hash: hashToken(token),
        shared_by_user_id: user.id,
        shared_by_user_name: user.name || user.username,
        created_at: at,
        access_count: 0,
        last_access_at: null,
        snapshot: JSON.stringify(snapshot),
      })
      .execute();
    return { share_id: id, token, created_at: at, access_count: 0, share_url: `${this.publicBase}/v1/share/conversations/${token}` };
  }

  /** Opens a link (no account needed): the snapshot, and the access counted. Unknown or revoked → 404. */
  async open(token: string) {
    if (!TOKEN.test(token)) throw shareNotFound();
    const hash = hashToken(token);
    const at = new Date().toISOString();
    const updated = await this.db
      .updateTable('conversation_shares')
      .set((eb) => ({ access_count: eb('access_count', '+', 1), last_access_at: at }))
      .where('token_hash', '=', hash)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) throw shareNotFound();
    const row = await this.db.selectFrom('conversation_shares').selectAll().where('token_hash', '=', hash).executeTakeFirst();
    if (!row) throw shareNotFound();
    const snapshot = JSON.parse(row.snapshot) as Snapshot;
    return {
      conversation: snapshotView(snapshot, row.shared_by_user_name, row.created_at),
      shared_by: row.shared_by_user_name,
      created_at: row.created_at,
      access_count: Number(row.access_count),
    };
  }

  /** The links of a conversation (owner or admin); tokens are not kept, so not listed. */
  async list(user: AuthUser, conversationId: string) {
    await this.conversations.getFor(conversationId, user, 'share');
    const rows = await this.db.selectFrom('conversation_shares').selectAll().where('conversation_id', '=', conversationId).orderBy('created_at').execute();
    return rows.map((r) => ({
      share_id: r.id,
      conversation_id: r.conversation_id,
      shared_by: r.shared_by_user_name,
      created_at: r.created_at,
      access_count: Number(r.access_count),
      last_access_at: r.last_access_at,
    }));
  }

  /** Revokes a link (the conversation's owner, the sharer, or an admin): it answers 404 from then on. */
  async revoke(user: AuthUser, conversationId: string, shareId: string): Promise<void> {
    const c = await this.conversations.row(conversationId);
    if (!c) throw conversationNotFound(conversationId);
    const row = await this.db
      .selectFrom('conversation_shares')
      .select(['id', 'shared_by_user_id'])
      .where('id', '=', shareId)
      .where('conversation_id', '=', conversationId)
      .executeTakeFirst();
    if (!canAccess(user, c) && row?.shared_by_user_id !== user.id) throw accessDenied('share');
    if (!row) throw shareIdNotFound(shareId);
    await this.db.deleteFrom('conversation_shares').where('id', '=', shareId).execute();
  }
}
