/**
 * Conversations (reference routers/conversation.py, service/conversation_service.py): one owner's
 * chat log. Owner-only, admins excepted. History items in the reference's camelCase
 * GeneratedMessage shape, kept in position order (`seq`); assistant calls append a User and an
 * Assistant message per turn, a regeneration (`history_index` of an earlier turn) or an edit
 * appends a variant of that turn. A finished conversation takes no more messages (409).
 */
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { AuthUser } from '../api/auth.js';
import { ApiError, unprocessable } from '../api/errors.js';
import type { Database } from '../store/schema.js';
import type { Dialect } from '../store/db.js';
import { fromBool, fromJson, toBool } from '../store/json.js';
import { createWriteBatcher, type WriteBatcher } from '../store/write-batch.js';
import { compiledOnce } from '../store/compiled-query.js';
import { newRowId } from '../store/ids.js';
import type { ConversationMessagesTable, ConversationsTable } from './tables.js';
import { emptyDirectory, type ConversationDirectory } from './directory.js';
import { FeedbackService } from './feedback/service.js';
import {
  accessDenied,
  conversationFinished,
  conversationNotFound,
  historyEmpty,
  historyItemNotFound,
  notYourConversation,
  workflowNotFound,
  type ConversationAction,
} from './errors.js';
import {
  historyFiles,
  htmlEscape,
  latestVariants,
  messageColumns,
  nameFrom,
  ratingOf,
  recordFromRow,
  wireMessage,
  type GeneratedMessage,
  type Mark,
  type MessageRecord,
  type StoredMessage,
} from './messages.js';
import type { AssistantData, ConversationListItem, ConversationView, CreateBody, HistoryItemInput, UpdateBody } from './schemas.js';

export type { GeneratedMessage, StoredMessage } from './messages.js';
export { conversationNotFound } from './errors.js';

export type ConvRow = Selectable<ConversationsTable>;
type MessageRow = Selectable<ConversationMessagesTable>;
type Db = Kysely<Database> | Transaction<Database>;

/** A message row as positional values: id, conversation_id, seq, history_index, role, message, date, data. */
type MessageTuple = readonly [string, string, number, number, string, string, string, string];
type MessageValues = [...MessageTuple, ...MessageTuple];
const messageRow = (v: readonly unknown[], o: number): MessageRow =>
  ({
    id: v[o],
    conversation_id: v[o + 1],
    seq: v[o + 2],
    history_index: v[o + 3],
    role: v[o + 4],
    message: v[o + 5],
    date: v[o + 6],
    data: v[o + 7],
  }) as MessageRow;

export interface TurnInit {
  assistantId: string;
  project: string;
  firstText: string;
  llmModel: string;
  /** The caller made the id just now, so it cannot exist yet (skips the lookup). */
  isNew?: boolean;
  /**
   * The chat request's `history_index`: an existing turn's index makes this turn a new variant of
   * that turn (a regeneration, appended at the end); absent or past the end, the next turn.
   */
  historyIndex?: number | null;
  /** A workflow chat: `assistantId` is the workflow's id (the list shows it as `workflow_id`). */
  workflow?: boolean;
}

export interface Paging {
  page?: number;
  perPage?: number;
  sortOrder?: 'asc' | 'desc';
}

type Pagination = NonNullable<ConversationView['pagination']>;

const ids = (json: string | null | undefined): string[] => fromJson<string[]>(json, []).filter((x) => typeof x === 'string');
const now = () => new Date().toISOString();

/** Who may do what with a conversation: its owner; platform admins too. */
export function canAccess(user: AuthUser, c: Pick<ConvRow, 'user_id'>): boolean {
  return c.user_id === user.id || user.isAdmin;
}

export class ConversationService {
  /** Turns saved by concurrent calls share a commit on SQLite (see store/write-batch.ts). */
  private readonly writes: WriteBatcher<Database>;

  /** The turn write's queries, compiled once (store/compiled-query.ts): it runs on every assistant call. */
  private readonly q: ReturnType<typeof turnQueries>;

  /** Feedback on answers; analytics counts it with `feedback.feedbackCounts(filter)`. */
  readonly feedback: FeedbackService;

  private directory: ConversationDirectory = emptyDirectory;
  private readonly deleteListeners: Array<(conversationIds: string[], trx: Transaction<Database>) => Promise<void>> = [];

  constructor(
    readonly db: Kysely<Database>,
    private readonly dialect: Dialect = 'sqlite',
  ) {
    this.writes = createWriteBatcher(db, dialect);
    this.q = turnQueries(db, dialect);
    this.feedback = new FeedbackService(this);
  }

  /** Assistants and workflows, read through their services (attached once every module exists). */
  useDirectory(directory: ConversationDirectory): void {
    this.directory = directory;
  }

  get assistants(): ConversationDirectory {
    return this.directory;
  }

  /**
   * Other domains' data tied to conversations (e.g. workflow executions of a workflow chat) is
   * removed by a listener, in the same transaction, whenever conversations are deleted.
   */
  onDeleted(listener: (conversationIds: string[], trx: Transaction<Database>) => Promise<void>): void {
    this.deleteListeners.push(listener);
  }

  // ---------------------------------------------------------------- lookups and guards

  async row(id: string, db: Db = this.db): Promise<ConvRow | undefined> {
    return db.selectFrom('conversations').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The conversation if `user` may act on it: 404 unknown, 403 (with the action's word) otherwise. */
  async getFor(id: string, user: AuthUser, action: ConversationAction, db: Db = this.db): Promise<ConvRow> {
    const c = await this.row(id, db);
    if (!c) throw conversationNotFound(id);
    if (!canAccess(user, c)) throw accessDenied(action);
    return c;
  }

  /** Owner (or admin) read access; kept for callers of the earlier API. */
  async getOwned(id: string, user: AuthUser): Promise<ConvRow> {
    return this.getFor(id, user, 'view');
  }

  /** Writes that add or change messages: refused with 409 once the conversation is finished. */
  async getOpenFor(id: string, user: AuthUser, action: ConversationAction = 'write', db: Db = this.db): Promise<ConvRow> {
    const c = await this.getFor(id, user, action, db);
    if (c.finished_at) throw conversationFinished(id);
    return c;
  }

  /**
   * Before an assistant call (or a workflow chat) continues conversation `id`: 403 when someone
   * else owns it, 409 when it is finished. An id nobody has used yet is fine: the call's turn
   * creates the conversation.
   */
  async assertCanContinue(id: string, user: AuthUser): Promise<void> {
    const c = (await this.q.owner.run(this.db, [id])).rows[0];
    if (!c) return;
    if (c.user_id !== user.id) throw notYourConversation(id);
    if (c.finished_at) throw conversationFinished(id);
  }

  /** 409 when conversation `id` exists and is finished (no owner check). */
  async assertOpen(id: string): Promise<void> {
    const c = (await this.q.owner.run(this.db, [id])).rows[0];
    if (c?.finished_at) throw conversationFinished(id);
  }

  // ---------------------------------------------------------------- turns

  /**
   * Appends one turn in a single transaction: the conversation is created (owned by `user`) on
   * its first turn, else owner- and finish-checked; `messages` receives the turn's history index.
   * The answering assistant moves to the front of `assistant_ids`; `project` follows it.
   */
  /** `alsoInTrx`: more writes committed with the turn (the call's usage rows). */
  async appendTurn(
    id: string,
    user: AuthUser,
    init: TurnInit,
    messages: (historyIndex: number) => GeneratedMessage[],
    alsoInTrx?: (trx: Transaction<Database>) => Promise<void>,
  ): Promise<void> {
    const at = now();
    await this.writes.run(async (trx) => {
      const existing = init.isNew ? undefined : (await this.q.ownerForWrite.run(trx, [id])).rows[0];
      let historyIndex = 0;
      let seq = 0;
      if (existing) {
        if (existing.user_id !== user.id) throw notYourConversation(id);
        if (existing.finished_at) throw conversationFinished(id);
        const r = (await this.q.maxIndex.run(trx, [id])).rows[0];
        const next = r?.m == null ? 0 : Number(r.m) + 1;
        seq = r?.s == null ? 0 : Number(r.s) + 1;
        historyIndex = init.historyIndex != null && init.historyIndex >= 0 && init.historyIndex < next ? init.historyIndex : next;
        const assistants = [init.assistantId, ...ids(existing.assistant_ids).filter((x) => x !== init.assistantId)];
        await this.q.touch.run(trx, [at, JSON.stringify(assistants), init.project, id]);
        // A conversation made empty (POST /conversations) is named by its first question.
        if (!existing.name && r?.m == null) await this.q.rename.run(trx, [nameFrom(init.firstText), id]);
      } else {
        await this.q.create.run(trx, [
          id,
          user.id,
          user.name || user.username,
          nameFrom(init.firstText),
          init.assistantId,
          init.project,
          init.llmModel,
          at,
          JSON.stringify([init.assistantId]),
          init.workflow ? 1 : 0,
        ]);
      }
      const rows = messages(historyIndex).map((m, i) => {
        const msg = m.role === 'User' && m.message && m.messageRaw == null ? { ...m, messageRaw: htmlEscape(m.message) } : m;
        const c = messageColumns(msg);
        return [newRowId(), id, seq + i, c.history_index, c.role, c.message, c.date, c.data] as const;
      });
      // A turn is two messages (the shape compiled once); anything else takes the general path.
      if (rows.length === 2) await this.q.insertPair.run(trx, [...rows[0], ...rows[1]]);
      else if (rows.length)
        await trx
          .insertInto('conversation_messages')
          .values(rows.map((r) => messageRow(r, 0)))
          .execute();
      if (alsoInTrx) await alsoInTrx(trx);
    });
  }

  /** The stored history in order. */
  async history(id: string, db: Db = this.db): Promise<StoredMessage[]> {
    return (await this.records(id, db)).map((r) => r.m);
  }

  async records(id: string, db: Db = this.db): Promise<MessageRecord[]> {
    const rows = await db.selectFrom('conversation_messages').selectAll().where('conversation_id', '=', id).orderBy('seq').orderBy('id').execute();
    return rows.map(recordFromRow);
  }

  /**
   * The history a model continues from: one message per (role, turn), the latest variant's text;
   * with `beforeIndex`, only the turns before it (regenerating that turn). Interrupted answers
   * that produced no text are left out.
   */
  async chatHistory(id: string, beforeIndex?: number | null): Promise<Array<{ role: 'user' | 'assistant'; content: string }>> {
    const stored = latestVariants(await this.history(id), beforeIndex);
    return stored
      .filter((m) => m.status !== 'interrupted' || m.message)
      .map((m) => ({ role: m.role === 'User' ? ('user' as const) : ('assistant' as const), content: m.message }));
  }

  // ---------------------------------------------------------------- reading

  async list(user: AuthUser, opts: { page?: number; perPage?: number; isFinished?: boolean } = {}): Promise<ConversationListItem[]> {
    let q = this.db.selectFrom('conversations').selectAll().where('user_id', '=', user.id);
    if (opts.isFinished === true) q = q.where('finished_at', 'is not', null);
    if (opts.isFinished === false) q = q.where('finished_at', 'is', null);
    q = q.orderBy('update_date', 'desc').orderBy('id');
    if (opts.page !== undefined || opts.perPage !== undefined) q = q.limit(opts.perPage ?? 20).offset((opts.page ?? 0) * (opts.perPage ?? 20));
    return this.listItems(await q.execute(), user);
  }

  /** List items of rows: first/last message dates, assistant names and icon as `user` may read them. */
  async listItems(rows: ConvRow[], user: AuthUser, extra = false): Promise<ConversationListItem[]> {
    const spans = new Map<string, { first: string | null; last: string | null }>();
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500).map((r) => r.id);
      const found = await this.db
        .selectFrom('conversation_messages')
        .select((eb) => ['conversation_id', eb.fn.min('date').as('first'), eb.fn.max('date').as('last')])
        .where('conversation_id', 'in', chunk)
        .groupBy('conversation_id')
        .execute();
      for (const f of found) spans.set(f.conversation_id, { first: (f.first as string) ?? null, last: (f.last as string) ?? null });
    }
    const allIds = [...new Set(rows.flatMap((r) => [...ids(r.assistant_ids), ...(r.initial_assistant_id && !r.is_workflow ? [r.initial_assistant_id] : [])]))];
    const cards = new Map((await this.directory.assistants(allIds, user)).map((a) => [a.assistant_id, a]));
    return rows.map((c) => {
      const workflow = fromBool(c.is_workflow);
      const names = ids(c.assistant_ids)
        .map((a) => cards.get(a)?.assistant_name)
        .filter((n): n is string => !!n)
        .sort();
      return {
        id: c.id,
        name: c.name ?? '',
        folder: c.folder,
        pinned: fromBool(c.pinned),
        date: c.update_date || c.date,
        update_date: c.update_date,
        assistant_ids: ids(c.assistant_ids),
        initial_assistant_id: c.initial_assistant_id,
        very_first_msg_at: spans.get(c.id)?.first ?? null,
        very_last_msg_at: spans.get(c.id)?.last ?? null,
        is_workflow: workflow,
        workflow_id: workflow ? c.initial_assistant_id : null,
        conversation_id: workflow ? c.id : null,
        assistant_icon: (c.initial_assistant_id && cards.get(c.initial_assistant_id)?.assistant_icon) || null,
        assistant_names: names,
        finished_at: c.finished_at,
        ...(extra ? { user_id: c.user_id, user_name: c.user_name, project: c.project, created_date: c.date } : {}),
      };
    });
  }

  /**
   * One conversation with its history. Paged (and `pagination` added) when any of page,
   * per_page, sort_order is given: pages count messages; sort_order orders them by date.
   */
  async detail(id: string, user: AuthUser, paging: Paging = {}): Promise<ConversationView> {
    const c = await this.getFor(id, user, 'view');
    return this.view(c, await this.history(id), user, paging);
  }

  /** The wire shape of a conversation (assistant data as `user` may read it). */
  async view(c: ConvRow, all: StoredMessage[], user: AuthUser, paging: Paging = {}): Promise<ConversationView> {
    let history = all;
    let pagination: Pagination | undefined;
    if (paging.page !== undefined || paging.perPage !== undefined || paging.sortOrder !== undefined) {
      const page = paging.page ?? 0;
      const perPage = paging.perPage ?? 20;
      let ordered = all;
      if (paging.sortOrder) {
        const dir = paging.sortOrder === 'asc' ? 1 : -1;
        ordered = all
          .map((m, i) => ({ m, i }))
          .sort((a, b) => {
            if (!a.m.date || !b.m.date) return (a.m.date ? -1 : b.m.date ? 1 : 0) || a.i - b.i; // nulls last
            return (a.m.date < b.m.date ? -dir : a.m.date > b.m.date ? dir : 0) || a.i - b.i;
          })
          .map((x) => x.m);
      }
      history = ordered.slice(page * perPage, page * perPage + perPage);
      const total = all.length;
      pagination = { page, per_page: perPage, total, pages: Math.ceil(total / perPage), has_next: page * perPage + perPage < total, has_previous: page > 0 };
    }
    const dates = all
      .map((m) => m.date)
      .filter(Boolean)
      .sort();
    return {
      id: c.id,
      conversation_id: c.id,
      conversation_name: c.name || (all.length ? nameFrom(all[0].message) : ''),
      llm_model: c.llm_model,
      enable_image_generation: c.enable_image_generation == null ? null : fromBool(c.enable_image_generation),
      image_generation_model: c.image_generation_model,
      folder: c.folder,
      pinned: fromBool(c.pinned),
      history: history.map(wireMessage),
      user_id: c.user_id,
      user_name: c.user_name,
      assistant_ids: ids(c.assistant_ids),
      assistant_data: await this.assistantData(c, user),
      initial_assistant_id: c.initial_assistant_id,
      final_user_mark: fromJson(c.final_user_mark, null),
      final_operator_mark: fromJson(c.final_operator_mark, null),
      project: c.project,
      mcp_server_single_usage: fromBool(c.mcp_server_single_usage),
      is_workflow_conversation: fromBool(c.is_workflow),
      conversation_details: null,
      assistant_details: null,
      user_abilities: ['read', 'write', 'delete'],
      is_folder_migrated: true,
      category: null,
      date: c.date,
      update_date: c.update_date,
      very_first_msg_at: dates[0] ?? null,
      very_last_msg_at: dates.at(-1) ?? null,
      finished_at: c.finished_at,
      ...(pagination ? { pagination } : {}),
    };
  }

  private async assistantData(c: ConvRow, user: AuthUser): Promise<AssistantData[]> {
    if (fromBool(c.is_workflow)) {
      if (!c.initial_assistant_id) return [];
      const w = await this.directory.workflow(c.initial_assistant_id, user);
      return [
        {
          assistant_id: c.initial_assistant_id,
          assistant_name: w?.name ?? '',
          assistant_icon: w?.icon_url ?? null,
          assistant_type: null,
          context: null,
          tools: null,
          conversation_starters: [],
        },
      ];
    }
    const cards = await this.directory.assistants(ids(c.assistant_ids), user);
    return cards.map(({ enable_image_generation: _e, image_generation_model: _m, ...a }) => a);
  }

  /** The files attached along the conversation (file handles as sent with the calls). */
  async files(id: string, user: AuthUser): Promise<string[]> {
    await this.getFor(id, user, 'view');
    return historyFiles(await this.history(id));
  }

  /** Names and folders of the caller's conversations matching `query` (case-insensitive), newest first. */
  async search(user: AuthUser, query: string) {
    const needle = query.toLowerCase();
    const chats = (
      await this.db.selectFrom('conversations').select(['id', 'name', 'folder', 'date', 'update_date', 'finished_at']).where('user_id', '=', user.id).execute()
    )
      .filter((c) => (c.name ? c.name.toLowerCase().includes(needle) : 'new chat'.includes(needle)))
      .map((c) => ({
        id: c.id,
        name: c.name ?? '',
        updated_at: c.update_date || c.date,
        type: 'chat' as const,
        folder: c.folder || null,
        finished_at: c.finished_at,
      }));
    const folders = (await this.db.selectFrom('conversation_folders').selectAll().where('user_id', '=', user.id).execute())
      .filter((f) => f.folder_name.toLowerCase().includes(needle))
      .map((f) => ({ id: f.id, name: f.folder_name, updated_at: f.update_date || f.date, type: 'folder' as const, folder: null, finished_at: null }));
    const items = [...chats, ...folders].sort((a, b) => (a.updated_at < b.updated_at ? 1 : a.updated_at > b.updated_at ? -1 : 0)).slice(0, 20);
    return { items };
  }

  /** An unsaved conversation template (`GET /conversations/new`). */
  async template(user: AuthUser, q: { initial_assistant_id?: string; is_workflow: boolean; folder?: string }): Promise<ConversationView> {
    const at = now();
    let assistantData: AssistantData[] = [];
    let image: { enable: boolean | null; model: string | null } = { enable: null, model: null };
    if (q.initial_assistant_id) {
      if (q.is_workflow) {
        const w = await this.directory.workflow(q.initial_assistant_id, user);
        if (!w) throw new ApiError(404, `Workflow ${q.initial_assistant_id} not found.`);
        assistantData = [
          {
            assistant_id: w.id,
            assistant_name: w.name,
            assistant_icon: w.icon_url,
            assistant_type: null,
            context: null,
            tools: null,
            conversation_starters: [],
          },
        ];
      } else {
        const [a] = await this.directory.assistants([q.initial_assistant_id], user);
        if (!a) throw new ApiError(404, `Assistant ${q.initial_assistant_id} not found.`);
        const { enable_image_generation, image_generation_model, ...card } = a;
        assistantData = [card];
        image = { enable: enable_image_generation, model: image_generation_model };
      }
    }
    return {
      id: 'new',
      conversation_id: 'new',
      conversation_name: '',
      llm_model: null,
      enable_image_generation: image.enable,
      image_generation_model: image.model,
      folder: q.folder ?? null,
      pinned: false,
      history: [],
      user_id: user.id,
      user_name: user.name || '',
      assistant_ids: q.initial_assistant_id ? [q.initial_assistant_id] : [],
      assistant_data: assistantData,
      initial_assistant_id: q.initial_assistant_id ?? null,
      final_user_mark: null,
      final_operator_mark: null,
      project: null,
      mcp_server_single_usage: false,
      is_workflow_conversation: q.is_workflow,
      conversation_details: null,
      assistant_details: null,
      user_abilities: null,
      is_folder_migrated: false,
      category: null,
      date: at,
      update_date: at,
      very_first_msg_at: null,
      very_last_msg_at: null,
      finished_at: null,
    };
  }

  // ---------------------------------------------------------------- create, update, delete

  /** `POST /conversations`: an empty conversation (its folder record made if missing). */
  async create(user: AuthUser, body: CreateBody): Promise<ConversationView> {
    const initial = body.initial_assistant_id || null;
    let image: { enable: boolean | null; model: string | null } = { enable: null, model: null };
    if (initial && body.is_workflow) {
      if (!(await this.directory.workflow(initial, user))) throw workflowNotFound(initial);
    } else if (initial) {
      const [a] = await this.directory.assistants([initial], user);
      if (a) image = { enable: a.enable_image_generation, model: a.image_generation_model };
    }
    const id = newRowId();
    const at = now();
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('conversations')
        .values({
          id,
          user_id: user.id,
          user_name: user.name || user.username,
          name: '',
          initial_assistant_id: initial,
          project: null,
          folder: body.folder ?? null,
          pinned: 0,
          llm_model: null,
          date: at,
          update_date: at,
          assistant_ids: JSON.stringify(initial ? [initial] : []),
          is_workflow: toBool(body.is_workflow),
          mcp_server_single_usage: toBool(body.mcp_server_single_usage),
          enable_image_generation: image.enable == null ? null : toBool(image.enable),
          image_generation_model: image.model,
          final_user_mark: null,
          final_operator_mark: null,
          finished_at: null,
        })
        .execute();
      if (body.folder) await this.ensureFolder(trx, user.id, body.folder, at);
    });
    return this.view((await this.row(id))!, [], user);
  }

  /** `PUT /conversations/{id}`: rename, pin, move, model settings; allowed on finished conversations. */
  async update(id: string, user: AuthUser, body: UpdateBody): Promise<ConversationView> {
    const c = await this.getFor(id, user, 'write');
    const at = now();
    const set: Partial<ConversationsTable> = { update_date: at };
    if (body.name) set.name = body.name;
    if (body.llm_model !== undefined) set.llm_model = body.llm_model;
    if (body.enable_image_generation !== undefined)
      set.enable_image_generation = body.enable_image_generation == null ? null : toBool(body.enable_image_generation);
    if (body.image_generation_model !== undefined) set.image_generation_model = body.image_generation_model;
    if (body.pinned != null) set.pinned = toBool(body.pinned);
    if (body.folder != null) set.folder = body.folder;
    if (body.active_assistant_id) {
      const list = ids(c.assistant_ids);
      if (list.includes(body.active_assistant_id))
        set.assistant_ids = JSON.stringify([body.active_assistant_id, ...list.filter((x) => x !== body.active_assistant_id)]);
    }
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('conversations').set(set).where('id', '=', id).execute();
      // Moving into a folder bumps the folder's date (the record is not created).
      if (body.folder && body.folder !== c.folder) {
        await trx
          .updateTable('conversation_folders')
          .set({ update_date: at })
          .where('user_id', '=', c.user_id)
          .where('folder_name', '=', body.folder)
          .execute();
      }
    });
    return this.view((await this.row(id))!, await this.history(id), user);
  }

  /** Deletes conversations (messages, shares and feedback go with them; listeners clean up the rest). */
  async deleteMany(trx: Transaction<Database>, conversationIds: string[]): Promise<void> {
    for (let i = 0; i < conversationIds.length; i += 500) {
      const chunk = conversationIds.slice(i, i + 500);
      for (const l of this.deleteListeners) await l(chunk, trx);
      await trx.deleteFrom('conversation_feedback').where('conversation_id', 'in', chunk).execute();
      await trx.deleteFrom('conversation_shares').where('conversation_id', 'in', chunk).execute();
      await trx.deleteFrom('conversation_messages').where('conversation_id', 'in', chunk).execute();
      await trx.deleteFrom('conversations').where('id', 'in', chunk).execute();
    }
  }

  /** Deletes all of the caller's conversations, folders and the shares they made; returns how many conversations. */
  async deleteAll(user: AuthUser): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const mine = (await trx.selectFrom('conversations').select('id').where('user_id', '=', user.id).execute()).map((r) => r.id);
      await this.deleteMany(trx, mine);
      await trx.deleteFrom('conversation_shares').where('shared_by_user_id', '=', user.id).execute();
      await trx.deleteFrom('conversation_folders').where('user_id', '=', user.id).execute();
      return mine.length;
    });
  }

  async delete(id: string, user: AuthUser): Promise<void> {
    await this.getFor(id, user, 'delete');
    await this.db.transaction().execute((trx) => this.deleteMany(trx, [id]));
  }

  // ---------------------------------------------------------------- history edits

  /** `DELETE …/history`: every message goes (and the feedback on them); name, folder, marks stay. */
  async clearHistory(id: string, user: AuthUser): Promise<ConversationView> {
    const c = await this.getOpenFor(id, user);
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('conversation_feedback').where('conversation_id', '=', id).execute();
      await trx.deleteFrom('conversation_messages').where('conversation_id', '=', id).execute();
      await trx
        .updateTable('conversations')
        .set({ assistant_ids: JSON.stringify(c.initial_assistant_id ? [c.initial_assistant_id] : []), update_date: now() })
        .where('id', '=', id)
        .execute();
    });
    return this.view((await this.row(id))!, [], user);
  }

  /** `DELETE …/history/{i}`: turn `i` (all its variants) goes; later turns move down by one. */
  async deleteTurn(id: string, user: AuthUser, index: number): Promise<ConversationView> {
    const c = await this.getOpenFor(id, user);
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('conversation_messages').where('conversation_id', '=', id).where('history_index', '=', index).execute();
      await trx
        .updateTable('conversation_messages')
        .set((eb) => ({ history_index: eb('history_index', '-', 1) }))
        .where('conversation_id', '=', id)
        .where('history_index', '>', index)
        .execute();
      await this.pruneAssistants(trx, c);
    });
    return this.view((await this.row(id))!, await this.history(id), user);
  }

  /**
   * `PUT …/history/{i}`: a new variant of turn `i` with `message` as the answer: the chosen pair
   * (variant `messageIndex` of the turn; the latest when absent or out of range) is copied to the
   * end of the history with the new text. The earlier variants stay.
   */
  async editAnswer(id: string, user: AuthUser, index: number, messageIndex: number | null | undefined, text: string): Promise<ConversationView> {
    await this.getOpenFor(id, user);
    await this.db.transaction().execute(async (trx) => {
      const all = await this.records(id, trx);
      const turn = all.filter((r) => r.m.historyIndex === index);
      if (!turn.length) throw historyItemNotFound(id, index);
      let user_ = messageIndex != null ? turn[messageIndex * 2] : undefined;
      let answer = messageIndex != null ? turn[messageIndex * 2 + 1] : undefined;
      if (!user_ || !answer || user_.m.role !== 'User' || answer.m.role !== 'Assistant') {
        user_ = [...turn].reverse().find((r) => r.m.role === 'User');
        answer = [...turn].reverse().find((r) => r.m.role === 'Assistant');
      }
      const seq = (all.at(-1)?.seq ?? -1) + 1;
      const copies: GeneratedMessage[] = [];
      if (user_) copies.push(structuredClone(user_.m));
      const base = answer ? structuredClone(answer.m) : { role: 'Assistant', message: '', historyIndex: index, date: now(), fileNames: [] };
      copies.push({ ...base, message: text, messageRaw: null, userMark: null, operatorMark: null, date: now() });
      await trx
        .insertInto('conversation_messages')
        .values(copies.map((m, i) => ({ id: newRowId(), conversation_id: id, seq: seq + i, ...messageColumns(m) })))
        .execute();
      await trx.updateTable('conversations').set({ update_date: now() }).where('id', '=', id).execute();
    });
    return this.view((await this.row(id))!, await this.history(id), user);
  }

  /**
   * `PUT …/history`: idempotent import. A new id creates the conversation with the history as
   * given; an existing one gets each message either replacing the stored message of the same
   * (historyIndex, role) (its latest occurrence) or appended.
   */
  async upsert(
    id: string,
    user: AuthUser,
    body: { assistant_id: string; folder?: string | null; history: HistoryItemInput[] },
  ): Promise<{ conversation_id: string; new_messages: number; total_messages: number; created: boolean }> {
    if (!body.history.length) throw historyEmpty();
    const at = now();
    return this.db.transaction().execute(async (trx) => {
      const existing = await this.row(id, trx);
      if (existing) {
        if (!canAccess(user, existing)) throw accessDenied('write');
        if (existing.finished_at) throw conversationFinished(id);
        const list = ids(existing.assistant_ids);
        await trx
          .updateTable('conversations')
          .set({ update_date: at, assistant_ids: JSON.stringify(list.includes(body.assistant_id) ? list : [...list, body.assistant_id]) })
          .where('id', '=', id)
          .execute();
      } else {
        await trx
          .insertInto('conversations')
          .values({
            id,
            user_id: user.id,
            user_name: user.name || user.username || user.id,
            name: nameFrom(body.history[0].message),
            initial_assistant_id: body.assistant_id,
            project: null,
            folder: body.folder ?? null,
            pinned: 0,
            llm_model: null,
            date: at,
            update_date: at,
            assistant_ids: JSON.stringify([body.assistant_id]),
            is_workflow: 0,
            mcp_server_single_usage: 0,
            enable_image_generation: null,
            image_generation_model: null,
            final_user_mark: null,
            final_operator_mark: null,
            finished_at: null,
          })
          .execute();
      }
      const records = existing ? await this.records(id, trx) : [];
      let seq = (records.at(-1)?.seq ?? -1) + 1;
      let maxIndex = records.reduce((m, r) => Math.max(m, r.m.historyIndex), -1);
      for (const h of body.history) {
        const { message, hasIndex } = importMessage(h, at);
        if (!hasIndex) message.historyIndex = message.role === 'User' ? maxIndex + 1 : Math.max(maxIndex, 0);
        maxIndex = Math.max(maxIndex, message.historyIndex);
        const stored = { ...message, fileNames: message.fileNames ?? [] };
        const target = hasIndex ? [...records].reverse().find((r) => r.m.historyIndex === message.historyIndex && r.m.role === message.role) : undefined;
        if (target) {
          await trx.updateTable('conversation_messages').set(messageColumns(message)).where('id', '=', target.id).execute();
          target.m = stored;
        } else {
          const row = { id: newRowId(), conversation_id: id, seq: seq++, ...messageColumns(message) };
          await trx.insertInto('conversation_messages').values(row).execute();
          records.push({ id: row.id, seq: row.seq, m: stored });
        }
      }
      if (body.folder) await this.ensureFolder(trx, existing?.user_id ?? user.id, body.folder, at);
      return { conversation_id: id, new_messages: body.history.length, total_messages: records.length, created: !existing };
    });
  }

  /** After messages went: `assistant_ids` keeps the ids still answering in the history, else the initial one. */
  private async pruneAssistants(trx: Transaction<Database>, c: ConvRow): Promise<void> {
    const answering = new Set((await this.history(c.id, trx)).map((m) => m.assistantId).filter((x): x is string => !!x));
    let list = ids(c.assistant_ids).filter((a) => answering.has(a));
    if (!list.length && c.initial_assistant_id) list = [c.initial_assistant_id];
    await trx
      .updateTable('conversations')
      .set({ assistant_ids: JSON.stringify(list), update_date: now() })
      .where('id', '=', c.id)
      .execute();
  }

  /** A folder record for `name` exists afterwards (its date bumped when it already did). */
  async ensureFolder(trx: Transaction<Database>, userId: string, name: string, at: string): Promise<void> {
    const found = await trx.selectFrom('conversation_folders').select('id').where('user_id', '=', userId).where('folder_name', '=', name).executeTakeFirst();
    if (found) await trx.updateTable('conversation_folders').set({ update_date: at }).where('id', '=', found.id).execute();
    else await trx.insertInto('conversation_folders').values({ id: newRowId(), user_id: userId, folder_name: name, date: at, update_date: at }).execute();
  }

  // ---------------------------------------------------------------- finishing and final marks

  /** `POST …/finish` (owner or admin): 409 when already finished. */
  async finish(id: string, user: AuthUser): Promise<{ conversationId: string; finishedAt: string }> {
    await this.getOpenFor(id, user);
    const at = now();
    const r = await this.db.updateTable('conversations').set({ finished_at: at }).where('id', '=', id).where('finished_at', 'is', null).executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw conversationFinished(id);
    return { conversationId: id, finishedAt: at };
  }

  /** Admin: finishes each id (idempotent per id; unknown ids reported, never failing the batch). */
  async finishBulk(conversationIds: string[]) {
    const at = now();
    const results: Array<{ conversationId: string; alreadyFinished: boolean; finishedAt: string | null; error: string | null }> = [];
    await this.db.transaction().execute(async (trx) => {
      for (const id of conversationIds) {
        const c = await trx.selectFrom('conversations').select(['id', 'finished_at']).where('id', '=', id).executeTakeFirst();
        if (!c) results.push({ conversationId: id, alreadyFinished: false, finishedAt: null, error: 'not_found' });
        else if (c.finished_at) results.push({ conversationId: id, alreadyFinished: true, finishedAt: c.finished_at, error: null });
        else {
          await trx.updateTable('conversations').set({ finished_at: at }).where('id', '=', id).execute();
          results.push({ conversationId: id, alreadyFinished: false, finishedAt: at, error: null });
        }
      }
    });
    return { total: conversationIds.length, results };
  }

  /** Admin: every user's conversations, oldest first. */
  async adminList(user: AuthUser, q: { isFinished?: boolean; startedAt?: string; project?: string; page: number; perPage: number }) {
    let base = this.db.selectFrom('conversations');
    if (q.isFinished === true) base = base.where('finished_at', 'is not', null);
    if (q.isFinished === false) base = base.where('finished_at', 'is', null);
    if (q.startedAt) {
      const t = Date.parse(q.startedAt);
      if (Number.isNaN(t)) throw unprocessable('startedAt: Invalid datetime', [{ loc: 'query.startedAt', msg: 'Invalid datetime', type: 'datetime_parsing' }]);
      base = base.where('date', '>=', new Date(t).toISOString());
    }
    if (q.project) base = base.where('project', '=', q.project);
    const total = Number((await base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst())?.n ?? 0);
    const rows = await base
      .selectAll()
      .orderBy('date')
      .orderBy('id')
      .limit(q.perPage)
      .offset(q.page * q.perPage)
      .execute();
    return {
      data: await this.listItems(rows, user, true),
      pagination: { page: q.page, per_page: q.perPage, total, pages: Math.ceil(total / q.perPage) },
    };
  }

  /** Admin: a user's conversation. */
  async adminGet(user: AuthUser, userId: string, id: string): Promise<ConversationView> {
    const c = await this.row(id);
    if (!c || c.user_id !== userId) throw conversationNotFound(id);
    return this.view(c, await this.history(id), user);
  }

  /** `POST …/feedback`: the owner's final mark of the conversation. */
  async finalUserMark(id: string, user: AuthUser, body: { mark: string; comments?: string | null }) {
    const c = await this.row(id);
    if (!c || c.user_id !== user.id) throw conversationNotFound(id);
    const mark: Mark = { mark: body.mark, rating: ratingOf(body.mark), comments: body.comments ?? '', date: now(), type: null, feedback_id: null };
    await this.db
      .updateTable('conversations')
      .set({ final_user_mark: JSON.stringify(mark), update_date: now() })
      .where('id', '=', id)
      .execute();
    return { user_id: user.id, conversation_id: id };
  }

  /** Admin: the operator's final mark (merged into an earlier one, with the operator's identity). */
  async finalOperatorMark(admin: AuthUser, userId: string, id: string, body: { mark: string; comments?: string | null }): Promise<ConversationView> {
    const c = await this.row(id);
    if (!c || c.user_id !== userId) throw conversationNotFound(id);
    const before = fromJson<Mark | null>(c.final_operator_mark, null);
    const mark: Mark = {
      ...(before ?? { date: now(), type: null, feedback_id: null }),
      mark: body.mark,
      rating: ratingOf(body.mark),
      comments: body.comments ?? before?.comments ?? '',
      date: before?.date ?? now(),
      operator: { user_id: admin.id, name: admin.name || admin.username },
    };
    await this.db
      .updateTable('conversations')
      .set({ final_operator_mark: JSON.stringify(mark) })
      .where('id', '=', id)
      .execute();
    return this.view((await this.row(id))!, await this.history(id), admin);
  }
}

/** An imported history item as stored: dates and messageRaw filled, `file_name` folded into fileNames. */
function importMessage(h: HistoryItemInput, at: string): { message: GeneratedMessage; hasIndex: boolean } {
  const { file_name, fileNames, historyIndex, message, date, messageRaw, ...rest } = h;
  const text = message ?? '';
  const clean = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as Partial<GeneratedMessage>;
  return {
    hasIndex: historyIndex != null,
    message: {
      ...clean,
      role: h.role,
      message: text,
      historyIndex: historyIndex ?? 0,
      date: date || at,
      fileNames: fileNames ?? (file_name ? [file_name] : []),
      messageRaw: messageRaw ?? (text ? htmlEscape(text) : null),
    },
  };
}

/** The turn write's queries, compiled once (store/compiled-query.ts). */
function turnQueries(db: Kysely<Database>, dialect: Dialect) {
  const owner = (id: string) => db.selectFrom('conversations').select(['user_id', 'finished_at', 'assistant_ids', 'name']).where('id', '=', id);
  return {
    owner: compiledOnce(owner, 1),
    // PostgreSQL: concurrent turns of one conversation queue on its row (positions stay distinct).
    ownerForWrite: compiledOnce((id: string) => (dialect === 'postgres' ? owner(id).forUpdate() : owner(id)), 1),
    maxIndex: compiledOnce(
      (id: string) =>
        db
          .selectFrom('conversation_messages')
          .select((eb) => [eb.fn.max('history_index').as('m'), eb.fn.max('seq').as('s')])
          .where('conversation_id', '=', id),
      1,
    ),
    touch: compiledOnce(
      (at: string, assistantIds: string, project: string, id: string) =>
        db.updateTable('conversations').set({ update_date: at, assistant_ids: assistantIds, project }).where('id', '=', id),
      4,
    ),
    rename: compiledOnce((name: string, id: string) => db.updateTable('conversations').set({ name }).where('id', '=', id), 2),
    create: compiledOnce(
      (
        id: string,
        userId: string,
        userName: string,
        name: string,
        assistantId: string,
        project: string,
        llmModel: string,
        at: string,
        assistantIds: string,
        workflow: number,
      ) =>
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
            assistant_ids: assistantIds,
            is_workflow: workflow,
            mcp_server_single_usage: 0,
          })
          .onConflict((oc) => oc.column('id').doNothing()),
      10,
    ),
    insertPair: compiledOnce((...v: MessageValues) => db.insertInto('conversation_messages').values([messageRow(v, 0), messageRow(v, 8)]), 16),
  };
}
