/**
 * Feedback on answers (reference routers/feedback.py): a like/dislike on one message of a
 * conversation, stored as a row (counted by analytics through feedbackCounts) and mirrored into
 * the message's `userMark` (or `operatorMark` for an operator, i.e. an admin). One current entry
 * per message and author: giving feedback again replaces the earlier entry. Entries go with their
 * message (turn deleted, history cleared) and with their conversation.
 */
import type { Kysely, Selectable } from 'kysely';
import type { ConversationFeedbackTable } from '../tables.js';
import type { AuthUser } from '../../api/auth.js';
import { ApiError, forbidden } from '../../api/errors.js';
import { ADMIN_ONLY } from '../../api/register.js';
import type { Database } from '../../store/schema.js';
import { newRowId } from '../../store/ids.js';
import { fromJson } from '../../store/json.js';
import { accessDenied, invalidMessageIndex } from '../errors.js';
import { messageColumns, ratingOf, type Mark } from '../messages.js';
import type { ConversationService } from '../service.js';

export type FeedbackMark = 'correct' | 'partially correct' | 'wrong';
export type FeedbackAuthor = 'user' | 'operator';

export interface FeedbackInput {
  conversation_id: string;
  message_index: number;
  assistant_id: string;
  request: string;
  response: string;
  mark: FeedbackMark;
  author: FeedbackAuthor;
  comments?: string | null;
  type?: string | null;
  feedback_id?: string | null;
  history?: Array<{ role: string; message: string }> | null;
  app_name?: string | null;
  repo_name?: string | null;
  index_type?: string | null;
}

/** What analytics may filter feedback by (all optional; dates are ISO strings, `until` exclusive). */
export interface FeedbackFilter {
  project?: string;
  assistantId?: string;
  conversationId?: string;
  /** Who gave the feedback. */
  userId?: string;
  /** Owner of the conversation. */
  conversationOwnerId?: string;
  author?: FeedbackAuthor;
  since?: string;
  until?: string;
}

export interface FeedbackCounts {
  total: number;
  correct: number;
  partially_correct: number;
  wrong: number;
  /** Mean rating (correct 100, partially correct 50, wrong 0; or the rating given), null without entries. */
  average_rating: number | null;
}

export type FeedbackGroup = 'assistant_id' | 'project' | 'user_id' | 'conversation_owner_id' | 'author';

export const feedbackNotFound = (id: string) =>
  new ApiError(404, 'Feedback not found', `The feedback with ID [${id}] could not be found in the system.`, 'Please ensure the specified ID is correct');

export class FeedbackService {
  constructor(private readonly conversations: ConversationService) {}

  private get db(): Kysely<Database> {
    return this.conversations.db;
  }

  /** The message at array position `index` of the conversation's history (variants counted). */
  private async messageAt(conversationId: string, index: number) {
    const records = await this.conversations.records(conversationId);
    const r = index >= 0 ? records[index] : undefined;
    if (!r) throw invalidMessageIndex(conversationId, index);
    return r;
  }

  private checkAuthor(user: AuthUser, author: FeedbackAuthor) {
    if (author === 'operator' && !user.isAdmin) throw forbidden(ADMIN_ONLY);
  }

  /** `POST /v1/feedback`: stores the entry and marks the message; returns the entry's id. */
  async create(user: AuthUser, f: FeedbackInput): Promise<{ id: string }> {
    const c = await this.conversations.getFor(f.conversation_id, user, 'view');
    this.checkAuthor(user, f.author);
    const target = await this.messageAt(f.conversation_id, f.message_index);
    const key = f.author === 'operator' ? 'operatorMark' : 'userMark';
    const id = newRowId();
    const at = new Date().toISOString();
    const mark: Mark = { mark: f.mark, rating: null, comments: f.comments ?? null, date: at, type: f.type ?? null, feedback_id: id };
    await this.db.transaction().execute(async (trx) => {
      // The earlier entry of this author on this message is replaced.
      await trx.deleteFrom('conversation_feedback').where('message_id', '=', target.id).where('author', '=', f.author).execute();
      await trx
        .insertInto('conversation_feedback')
        .values({
          id,
          conversation_id: c.id,
          message_id: target.id,
          user_id: user.id,
          conversation_owner_id: c.user_id,
          project: c.project,
          assistant_id: f.assistant_id,
          author: f.author,
          mark: f.mark,
          rating: ratingOf(f.mark),
          comments: f.comments ?? null,
          type: f.type ?? null,
          request: f.request,
          response: f.response,
          history: f.history ? JSON.stringify(f.history) : null,
          app_name: f.app_name ?? null,
          repo_name: f.repo_name ?? null,
          index_type: f.index_type ?? null,
          date: at,
          update_date: at,
        })
        .execute();
      await trx
        .updateTable('conversation_messages')
        .set({ data: messageColumns({ ...target.m, [key]: mark }).data })
        .where('id', '=', target.id)
        .execute();
    });
    return { id };
  }

  /** `DELETE /v1/feedback`: clears the message's mark and deletes the entry (an unknown id is no error). */
  async remove(user: AuthUser, f: { conversation_id: string; feedback_id: string; message_index: number; author: FeedbackAuthor }): Promise<void> {
    const c = await this.conversations.getFor(f.conversation_id, user, 'view');
    this.checkAuthor(user, f.author);
    const target = await this.messageAt(f.conversation_id, f.message_index);
    const key = f.author === 'operator' ? 'operatorMark' : 'userMark';
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('conversation_messages')
        .set({ data: messageColumns({ ...target.m, [key]: null }).data })
        .where('id', '=', target.id)
        .execute();
      await trx.deleteFrom('conversation_feedback').where('id', '=', f.feedback_id).where('conversation_id', '=', c.id).execute();
    });
  }

  /** `GET /v1/feedback`: the caller's entries (an admin's: everyone's), newest first. */
  async list(user: AuthUser) {
    let q = this.db.selectFrom('conversation_feedback').selectAll();
    if (!user.isAdmin) q = q.where('user_id', '=', user.id);
    return (await q.orderBy('date', 'desc').orderBy('id').execute()).map(entry);
  }

  async get(user: AuthUser, id: string) {
    const row = await this.db.selectFrom('conversation_feedback').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw feedbackNotFound(id);
    if (row.user_id !== user.id && !user.isAdmin) throw accessDenied('view');
    return entry(row);
  }

  /**
   * Counts of current feedback entries for analytics: how many, per mark, and the mean rating.
   * Every filter is optional; `since` inclusive, `until` exclusive (ISO timestamps).
   */
  async feedbackCounts(filter: FeedbackFilter = {}): Promise<FeedbackCounts> {
    const [row] = await this.countsBy(filter, null);
    return row ? stripKey(row) : { total: 0, correct: 0, partially_correct: 0, wrong: 0, average_rating: null };
  }

  /** The same counts per assistant, project, user, conversation owner or author. */
  async feedbackCountsBy(filter: FeedbackFilter, by: FeedbackGroup): Promise<Array<FeedbackCounts & { key: string | null }>> {
    return this.countsBy(filter, by);
  }

  private async countsBy(filter: FeedbackFilter, by: FeedbackGroup | null): Promise<Array<FeedbackCounts & { key: string | null }>> {
    let q = this.db.selectFrom('conversation_feedback');
    if (filter.project) q = q.where('project', '=', filter.project);
    if (filter.assistantId) q = q.where('assistant_id', '=', filter.assistantId);
    if (filter.conversationId) q = q.where('conversation_id', '=', filter.conversationId);
    if (filter.userId) q = q.where('user_id', '=', filter.userId);
    if (filter.conversationOwnerId) q = q.where('conversation_owner_id', '=', filter.conversationOwnerId);
    if (filter.author) q = q.where('author', '=', filter.author);
    if (filter.since) q = q.where('date', '>=', filter.since);
    if (filter.until) q = q.where('date', '<', filter.until);
    const counted = q.select((eb) => [
      eb.fn.countAll().as('total'),
      eb.fn.sum(eb.case().when('mark', '=', 'correct').then(1).else(0).end()).as('correct'),
      eb.fn.sum(eb.case().when('mark', '=', 'partially correct').then(1).else(0).end()).as('partially_correct'),
      eb.fn.sum(eb.case().when('mark', '=', 'wrong').then(1).else(0).end()).as('wrong'),
      eb.fn.avg('rating').as('average_rating'),
    ]);
    const rows = by
      ? await counted
          .select(`${by} as key` as never)
          .groupBy(by)
          .orderBy(by)
          .execute()
      : await counted.execute();
    return (rows as Array<Record<string, unknown>>)
      .filter((r) => Number(r.total) > 0)
      .map((r) => ({
        key: by ? ((r.key as string | null) ?? null) : null,
        total: Number(r.total),
        correct: Number(r.correct ?? 0),
        partially_correct: Number(r.partially_correct ?? 0),
        wrong: Number(r.wrong ?? 0),
        average_rating: r.average_rating == null ? null : Number(r.average_rating),
      }));
  }
}

function stripKey<T extends { key: unknown }>(r: T): Omit<T, 'key'> {
  const { key: _key, ...rest } = r;
  return rest;
}

type FeedbackRow = Selectable<ConversationFeedbackTable>;

/** The reference's FeedbackEntry (camelCase where it aliases), plus who, on what and which assistant. */
function entry(r: FeedbackRow) {
  return {
    id: r.id,
    date: r.date,
    update_date: r.update_date,
    request: r.request,
    response: r.response,
    comments: r.comments,
    conversationId: r.conversation_id,
    history: fromJson<Array<{ role: string; message: string }> | null>(r.history, null),
    mark: r.mark,
    appName: r.app_name,
    repoName: r.repo_name,
    indexType: r.index_type,
    author: r.author,
    assistant_id: r.assistant_id,
    user_id: r.user_id,
    type: r.type,
  };
}
