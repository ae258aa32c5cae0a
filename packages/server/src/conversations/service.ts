/**
 * Conversations (reference §7.1): owner-only; history items in the reference's camelCase
 * GeneratedMessage shape. Assistant calls append a User and an Assistant message per turn.
 */
import type { Insertable, Kysely, Selectable } from 'kysely';
import type { AuthUser } from '../api/auth.js';
import { forbidden, notFound } from '../api/errors.js';
import type { Database } from '../store/schema.js';
import type { ConversationMessagesTable, ConversationsTable } from './tables.js';
import { fromBool, fromJson, toJson } from '../store/json.js';
import type { Dialect } from '../store/db.js';
import { createWriteBatcher, type WriteBatcher } from '../store/write-batch.js';
import { compiledOnce } from '../store/compiled-query.js';
import { newRowId } from '../store/ids.js';
import type { Thought } from '../wire/thought.js';

export interface GeneratedMessage {
  role: 'User' | 'Assistant';
  message: string;
  historyIndex: number;
  date: string;
  responseTime?: number | null;
  inputTokens?: number | null;
  outputTokens?: number | null;
  cacheReadInputTokens?: number | null;
  moneySpent?: number | null;
  userMark?: unknown;
  operatorMark?: unknown;
  messageRaw?: string | null;
  fileNames?: string[];
  assistantId?: string | null;
  thoughts?: Thought[];
  status?: string | null;
  executionId?: string | null;
}

type ConvRow = Selectable<ConversationsTable>;
type MessageRow = Insertable<ConversationMessagesTable>;
/** A message row as positional values: id, conversation_id, history_index, role, message, date, data. */
type MessageTuple = readonly [string, string, number, string, string, string, string];
type MessageValues = [...MessageTuple, ...MessageTuple];
const messageRow = (v: readonly unknown[], o: number): MessageRow =>
  ({ id: v[o], conversation_id: v[o + 1], history_index: v[o + 2], role: v[o + 3], message: v[o + 4], date: v[o + 5], data: v[o + 6] }) as MessageRow;

/** A message as read back: every stored message lists its files (possibly none). */
export type StoredMessage = GeneratedMessage & { fileNames: string[] };

function messageFromRow(r: Selectable<ConversationMessagesTable>): StoredMessage {
  // fileNames is always present (the Python SDK's HistoryItem requires it)
  return {
    fileNames: [],
    ...fromJson<Partial<GeneratedMessage>>(r.data, {}),
    role: r.role as 'User' | 'Assistant',
    message: r.message,
    historyIndex: r.history_index,
    date: r.date,
  };
}

export const conversationNotFound = (id: string) => notFound('Conversation', id);

export class ConversationService {
  /** Turns saved by concurrent calls share a commit on SQLite (see store/write-batch.ts). */
  private readonly writes: WriteBatcher<Database>;

  /** The turn write's queries, compiled once (store/compiled-query.ts): it runs on every assistant call. */
  private readonly q: ReturnType<typeof turnQueries>;

  constructor(
    private readonly db: Kysely<Database>,
    dialect: Dialect = 'sqlite',
  ) {
    this.writes = createWriteBatcher(db, dialect);
    this.q = turnQueries(db);
  }

  private async row(id: string): Promise<ConvRow | undefined> {
    return this.db.selectFrom('conversations').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * Before a call continues conversation `id`: refused (403) when someone else owns it. An id
   * nobody has used yet is fine: the call's turn creates the conversation.
   */
  async assertCanContinue(id: string, user: AuthUser): Promise<void> {
    const owner = (await this.q.owner.run(this.db, [id])).rows[0];
    if (owner && owner.user_id !== user.id) throw forbidden('You do not have the necessary permissions to view this entity.');
  }

  /** Owner only (the reference: admins are not special for conversations). */
  async getOwned(id: string, user: AuthUser): Promise<ConvRow> {
    const c = await this.row(id);
    if (!c) throw conversationNotFound(id);
    if (c.user_id !== user.id) throw forbidden('You do not have the necessary permissions to view this entity.');
    return c;
  }

  /**
   * Appends one turn in a single transaction: the conversation is created (owned by `user`) on
   * its first turn, else owner-checked; `messages` receives the turn's history index.
   * `init.isNew`: the caller made the id just now, so it cannot exist yet (skips the lookup).
   */
  async appendTurn(
    id: string,
    user: AuthUser,
    init: { assistantId: string; project: string; firstText: string; llmModel: string; isNew?: boolean },
    messages: (historyIndex: number) => GeneratedMessage[],
  ): Promise<void> {
    const now = new Date().toISOString();
    await this.writes.run(async (trx) => {
      const existing = init.isNew ? undefined : (await this.q.owner.run(trx, [id])).rows[0];
      let historyIndex = 0;
      if (existing) {
        if (existing.user_id !== user.id) throw forbidden('You do not have the necessary permissions to view this entity.');
        const r = (await this.q.maxIndex.run(trx, [id])).rows[0];
        historyIndex = r?.m == null ? 0 : Number(r.m) + 1;
        await this.q.touch.run(trx, [now, id]);
      } else {
        const name = init.firstText.slice(0, 80) || 'New conversation';
        await this.q.create.run(trx, [id, user.id, user.name || user.username, name, init.assistantId, init.project, init.llmModel, now]);
      }
      const rows = messages(historyIndex).map((m) => {
        const { role, message, historyIndex: idx, date, ...rest } = m;
        return [newRowId(), id, idx, role, message, date, toJson(rest)] as const;
      });
      // A turn is two messages (the shape compiled once); anything else takes the general path.
      if (rows.length === 2) await this.q.insertPair.run(trx, [...rows[0], ...rows[1]]);
      else if (rows.length)
        await trx
          .insertInto('conversation_messages')
          .values(rows.map((r) => messageRow(r, 0)))
          .execute();
    });
  }

  async history(id: string): Promise<StoredMessage[]> {
    const rows = await this.db
      .selectFrom('conversation_messages')
      .selectAll()
      .where('conversation_id', '=', id)
      .orderBy('history_index')
      .orderBy('role', 'desc')
      .execute();
    return rows.map(messageFromRow);
  }

  async list(user: AuthUser, page?: number, perPage?: number) {
    let q = this.db.selectFrom('conversations').selectAll().where('user_id', '=', user.id).orderBy('update_date', 'desc').orderBy('id');
    if (page !== undefined || perPage !== undefined) q = q.limit(perPage ?? 20).offset((page ?? 0) * (perPage ?? 20));
    const rows = await q.execute();
    return rows.map((c) => ({
      id: c.id,
      name: c.name,
      folder: c.folder,
      pinned: fromBool(c.pinned),
      date: c.date,
      update_date: c.update_date,
      assistant_ids: c.initial_assistant_id ? [c.initial_assistant_id] : [],
      initial_assistant_id: c.initial_assistant_id,
      is_workflow: false,
      workflow_id: null,
      conversation_id: c.id,
    }));
  }

  /** With page/per_page, the history is paged by turn (historyIndex) and `pagination` is added. */
  async detail(id: string, user: AuthUser, paging: { page?: number; perPage?: number; sortOrder?: 'asc' | 'desc' } = {}) {
    const c = await this.getOwned(id, user);
    const all = await this.history(id);
    let history = all;
    let pagination: { page: number; per_page: number; total: number; pages: number; has_next: boolean; has_previous: boolean } | undefined;
    if (paging.page !== undefined || paging.perPage !== undefined || paging.sortOrder === 'desc') {
      const indexes = [...new Set(all.map((m) => m.historyIndex))];
      if (paging.sortOrder === 'desc') indexes.reverse();
      const page = paging.page ?? 0;
      const perPage = paging.perPage ?? 20;
      const wanted = new Set(indexes.slice(page * perPage, (page + 1) * perPage));
      history = all.filter((m) => wanted.has(m.historyIndex));
      if (paging.sortOrder === 'desc') history = [...history].sort((a, b) => b.historyIndex - a.historyIndex || (a.role === 'User' ? -1 : 1));
      const pages = Math.ceil(indexes.length / perPage);
      pagination = { page, per_page: perPage, total: indexes.length, pages, has_next: page + 1 < pages, has_previous: page > 0 };
    }
    return {
      ...(pagination ? { pagination } : {}),
      id: c.id,
      conversation_id: c.id,
      conversation_name: c.name,
      llm_model: c.llm_model,
      folder: c.folder,
      pinned: fromBool(c.pinned),
      history,
      user_id: c.user_id,
      user_name: c.user_name,
      assistant_ids: c.initial_assistant_id ? [c.initial_assistant_id] : [],
      assistant_data: [],
      initial_assistant_id: c.initial_assistant_id,
      project: c.project,
      mcp_server_single_usage: false,
      is_workflow_conversation: false,
      user_abilities: ['read', 'write', 'delete'],
      date: c.date,
      update_date: c.update_date,
      very_first_msg_at: all[0]?.date ?? null,
      very_last_msg_at: all.at(-1)?.date ?? null,
      // keys the Python SDK's ConversationDetails model requires (values as the reference's defaults)
      final_user_mark: null,
      final_operator_mark: null,
      conversation_details: null,
      assistant_details: null,
      is_folder_migrated: true,
      category: null,
    };
  }

  /** Deletes all of the caller's conversations; returns how many. */
  async deleteAll(user: AuthUser): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const ids = (await trx.selectFrom('conversations').select('id').where('user_id', '=', user.id).execute()).map((r) => r.id);
      if (!ids.length) return 0;
      await trx.deleteFrom('conversation_messages').where('conversation_id', 'in', ids).execute();
      await trx.deleteFrom('conversations').where('id', 'in', ids).execute();
      return ids.length;
    });
  }

  async delete(id: string, user: AuthUser): Promise<void> {
    await this.getOwned(id, user);
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('conversation_messages').where('conversation_id', '=', id).execute();
      await trx.deleteFrom('conversations').where('id', '=', id).execute();
    });
  }
}

/** The turn write's queries, compiled once (store/compiled-query.ts). */
function turnQueries(db: Kysely<Database>) {
  return {
    owner: compiledOnce((id: string) => db.selectFrom('conversations').select('user_id').where('id', '=', id), 1),
    maxIndex: compiledOnce(
      (id: string) =>
        db
          .selectFrom('conversation_messages')
          .select((eb) => eb.fn.max('history_index').as('m'))
          .where('conversation_id', '=', id),
      1,
    ),
    touch: compiledOnce((at: string, id: string) => db.updateTable('conversations').set({ update_date: at }).where('id', '=', id), 2),
    create: compiledOnce(
      (id: string, userId: string, userName: string, name: string, assistantId: string, project: string, llmModel: string, at: string) =>
        db
          .insertInto('conversations')
          .values({
            id,
            user_id: userId,
            user_name: userName,
            name,
            initial_assistant_id: assistantId,
            project,
            folder: null,
            pinned: 0,
            llm_model: llmModel,
            date: at,
            update_date: at,
          })
          .onConflict((oc) => oc.column('id').doNothing()),
      8,
    ),
    insertPair: compiledOnce((...v: MessageValues) => db.insertInto('conversation_messages').values([messageRow(v, 0), messageRow(v, 7)]), 14),
  };
}
