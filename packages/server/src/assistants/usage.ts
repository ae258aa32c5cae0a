/**
 * Who used an assistant and how they liked it (reference §4.7, `assistant_user_interaction`):
 * one row per (assistant, user) with a usage count and an optional reaction. The assistant's
 * `unique_users_count` / `unique_likes_count` / `unique_dislikes_count` are recomputed from the
 * rows (marketplace ordering uses them). Reacting does not count as a use (the reference's does).
 */
import { sql, type Kysely } from 'kysely';
import type { AuthUser } from '../api/auth.js';
import type { Database } from '../store/schema.js';
import { newRowId } from '../store/ids.js';
import type { AssistantRecord, AssistantRepo } from './repo.js';

export type Reaction = 'like' | 'dislike';

export interface ReactionResult {
  success: boolean;
  reaction: Reaction | null;
  like_count: number;
  dislike_count: number;
  error: string | null;
}

export class UsageService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly repo: AssistantRepo,
  ) {}

  /**
   * Pairs (assistant, user) this process has already recorded: a call of a known pair writes
   * nothing (the hot path of every call stays free of an extra write); the row's usage_count and
   * last_used_at then count the processes' first calls, not every call — only the number of
   * users is answered on the wire.
   */
  private readonly seen = new Set<string>();
  private static readonly SEEN_MAX = 50_000;

  /** Records a call of the assistant by the user; a first use updates `unique_users_count`. */
  async recordUse(a: AssistantRecord, user: AuthUser): Promise<void> {
    const key = `${a.id}\u0000${user.id}`;
    if (this.seen.has(key)) return;
    if (this.seen.size >= UsageService.SEEN_MAX) this.seen.clear();
    this.seen.add(key);
    const now = new Date().toISOString();
    const row = await this.db
      .insertInto('assistant_interactions')
      .values({ id: newRowId(), assistant_id: a.id, user_id: user.id, project: a.project, usage_count: 1, reaction: null, reaction_at: null, first_used_at: now, last_used_at: now })
      .onConflict((oc) => oc.columns(['assistant_id', 'user_id']).doUpdateSet({ usage_count: sql`assistant_interactions.usage_count + 1`, last_used_at: now }))
      .returning('usage_count')
      .executeTakeFirst();
    if (Number(row?.usage_count) === 1) {
      const [{ n }] = await this.db
        .selectFrom('assistant_interactions')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('assistant_id', '=', a.id)
        .where('usage_count', '>', 0)
        .execute();
      await this.repo.setCounters(a.id, { unique_users_count: Number(n) });
    }
  }

  /** Toggles the caller's reaction: the same one again clears it, another replaces it. */
  async react(a: AssistantRecord, user: AuthUser, reaction: Reaction): Promise<ReactionResult> {
    const now = new Date().toISOString();
    const current = await this.current(a.id, user.id);
    const next = current === reaction ? null : reaction;
    try {
      await this.db
        .insertInto('assistant_interactions')
        .values({ id: newRowId(), assistant_id: a.id, user_id: user.id, project: a.project, usage_count: 0, reaction: next, reaction_at: now, first_used_at: now, last_used_at: now })
        .onConflict((oc) => oc.columns(['assistant_id', 'user_id']).doUpdateSet({ reaction: next, reaction_at: now }))
        .execute();
      return { success: true, reaction: next, ...(await this.recount(a.id)), error: null };
    } catch {
      return { success: false, reaction: current, like_count: a.unique_likes_count, dislike_count: a.unique_dislikes_count, error: 'Failed to update reaction' };
    }
  }

  async removeReaction(a: AssistantRecord, user: AuthUser): Promise<ReactionResult> {
    try {
      if (!(await this.current(a.id, user.id))) {
        return { success: true, reaction: null, like_count: a.unique_likes_count, dislike_count: a.unique_dislikes_count, error: null };
      }
      await this.db
        .updateTable('assistant_interactions')
        .set({ reaction: null, reaction_at: new Date().toISOString() })
        .where('assistant_id', '=', a.id)
        .where('user_id', '=', user.id)
        .execute();
      return { success: true, reaction: null, ...(await this.recount(a.id)), error: null };
    } catch {
      return { success: false, reaction: null, like_count: a.unique_likes_count, dislike_count: a.unique_dislikes_count, error: 'Failed to remove reaction' };
    }
  }

  private async current(assistantId: string, userId: string): Promise<Reaction | null> {
    const r = await this.db.selectFrom('assistant_interactions').select('reaction').where('assistant_id', '=', assistantId).where('user_id', '=', userId).executeTakeFirst();
    return (r?.reaction as Reaction | null) ?? null;
  }

  private async recount(assistantId: string): Promise<{ like_count: number; dislike_count: number }> {
    const rows = await this.db
      .selectFrom('assistant_interactions')
      .select(['reaction', (eb) => eb.fn.countAll<number>().as('n')])
      .where('assistant_id', '=', assistantId)
      .where('reaction', 'is not', null)
      .groupBy('reaction')
      .execute();
    const count = (r: Reaction) => Number(rows.find((x) => x.reaction === r)?.n ?? 0);
    const c = { like_count: count('like'), dislike_count: count('dislike') };
    await this.repo.setCounters(assistantId, { unique_likes_count: c.like_count, unique_dislikes_count: c.dislike_count });
    return c;
  }
}
