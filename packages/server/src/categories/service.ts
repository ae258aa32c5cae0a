/**
 * Categories of the marketplace (reference `routers/category.py`): an admin-managed list, seeded
 * with the reference's 15 (migration 0020). Assistants (and workflows) keep category ids; they
 * validate them here and report how many of their entities use a category (registerUsage), so
 * this domain reads no other domain's tables.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AuthUser } from '../api/auth.js';
import { ApiError, badRequest, conflict, forbidden } from '../api/errors.js';
import type { Database } from '../store/schema.js';
import type { CategoriesTable } from './tables.js';

export interface Category {
  id: string;
  name: string;
  description: string | null;
  date: string;
  update_date: string;
}

/** How many entities of one kind use a category: published (marketplace) and not. */
export interface CategoryUsage {
  marketplace: number;
  project: number;
}

export type CategoryUsageCounter = (categoryId: string) => Promise<CategoryUsage>;

export interface CategoryWithCounts extends Category {
  marketplace_count: number;
  project_count: number;
}

const ADMIN_HELP = 'If you believe you should have elevated access, please contact your system administrator or check your account settings.';

/** "Migration & Modernization" → "migration_modernization"; empty → a UUID. */
export function humanizeCategoryId(name: string): string {
  const id = name
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, '')
    .trim()
    .replace(/\s+/g, '_');
  return id || randomUUID();
}

/** Python's repr of a list of strings: ['a', 'b'] (the reference's error text). */
export function pyList(items: string[]): string {
  return `[${items.map((s) => `'${s}'`).join(', ')}]`;
}

export class CategoryService {
  private readonly counters: CategoryUsageCounter[] = [];

  constructor(private readonly db: Kysely<Database>) {}

  /** Adds a source of usage counts (each domain that stores category ids registers one). */
  registerUsage(counter: CategoryUsageCounter): void {
    this.counters.push(counter);
  }

  /** Every category, by name. */
  async list(): Promise<Category[]> {
    return (await this.db.selectFrom('categories').selectAll().orderBy('name').orderBy('id').execute()).map(fromRow);
  }

  async pageFor(user: AuthUser, page: number, perPage: number): Promise<{ items: CategoryWithCounts[]; total: number }> {
    requireCategoryAdmin(user);
    const [{ n }] = await this.db.selectFrom('categories').select((eb) => eb.fn.countAll<number>().as('n')).execute();
    const rows = await this.db.selectFrom('categories').selectAll().orderBy('name').orderBy('id').limit(perPage).offset(page * perPage).execute();
    return { items: await Promise.all(rows.map((r) => this.withCounts(fromRow(r)))), total: Number(n) };
  }

  /** The categories with these ids, in the order asked (unknown ids left out). */
  async byIds(ids: string[]): Promise<Category[]> {
    if (!ids.length) return [];
    const rows = await this.db.selectFrom('categories').selectAll().where('id', 'in', ids).execute();
    const byId = new Map(rows.map((r) => [r.id, fromRow(r)]));
    return ids.map((id) => byId.get(id)).filter((c): c is Category => !!c);
  }

  /**
   * Why these ids cannot be saved (null when they can): none given while `required`, or unknown
   * ones — the reference's texts ("At least one category is required", "Invalid category IDs: [...]").
   */
  async problem(ids: string[], required: boolean): Promise<string | null> {
    if (!ids.length) return required ? 'At least one category is required' : null;
    const known = new Set((await this.byIds(ids)).map((c) => c.id));
    const unknown = [...new Set(ids.filter((id) => !known.has(id)))];
    return unknown.length ? `Invalid category IDs: ${pyList(unknown)}` : null;
  }

  async get(id: string, user: AuthUser): Promise<CategoryWithCounts> {
    requireCategoryAdmin(user);
    const row = await this.db.selectFrom('categories').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new ApiError(404, 'Category not found', `Category with ID '${id}' does not exist.`, 'Check the category ID and try again. Use GET /v1/assistants/categories to list all available categories.');
    return this.withCounts(fromRow(row));
  }

  async create(body: { name: string; description?: string | null }, user: AuthUser): Promise<CategoryWithCounts> {
    requireCategoryAdmin(user);
    if (await this.byName(body.name)) throw conflict('Category already exists', `A category with name '${body.name}' already exists`);
    const id = humanizeCategoryId(body.name);
    if (await this.db.selectFrom('categories').select('id').where('id', '=', id).executeTakeFirst()) {
      throw badRequest('Cannot create category', `Category with ID '${id}' already exists`, 'The generated category ID already exists. Try using a different name.');
    }
    const now = new Date().toISOString();
    const c: Category = { id, name: body.name, description: body.description ?? null, date: now, update_date: now };
    await this.db.insertInto('categories').values(c).execute();
    return { ...c, marketplace_count: 0, project_count: 0 };
  }

  async update(id: string, body: { name: string; description?: string | null }, user: AuthUser): Promise<CategoryWithCounts> {
    requireCategoryAdmin(user);
    const row = await this.db.selectFrom('categories').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new ApiError(404, 'Category not found', `Category with ID '${id}' not found`);
    const other = await this.byName(body.name);
    if (other && other.id !== id) throw conflict('Category name already exists', `A category with name '${body.name}' already exists`);
    const c: Category = { ...fromRow(row), name: body.name, description: body.description ?? null, update_date: new Date().toISOString() };
    await this.db.updateTable('categories').set({ name: c.name, description: c.description, update_date: c.update_date }).where('id', '=', id).execute();
    return this.withCounts(c);
  }

  async delete(id: string, user: AuthUser): Promise<void> {
    requireCategoryAdmin(user);
    const row = await this.db.selectFrom('categories').select('id').where('id', '=', id).executeTakeFirst();
    if (!row) throw new ApiError(404, 'Category not found', `Category with ID '${id}' not found`);
    const usage = await this.usage(id);
    const count = usage.marketplace + usage.project;
    if (count > 0) throw conflict('Cannot delete category', `Cannot delete category with ${count} assigned assistants`);
    await this.db.deleteFrom('categories').where('id', '=', id).execute();
  }

  async usage(id: string): Promise<CategoryUsage> {
    const all = await Promise.all(this.counters.map((c) => c(id)));
    return all.reduce((a, b) => ({ marketplace: a.marketplace + b.marketplace, project: a.project + b.project }), { marketplace: 0, project: 0 });
  }

  private async withCounts(c: Category): Promise<CategoryWithCounts> {
    const u = await this.usage(c.id);
    return { ...c, marketplace_count: u.marketplace, project_count: u.project };
  }

  private async byName(name: string) {
    return this.db.selectFrom('categories').select('id').where('name', '=', name).executeTakeFirst();
  }
}

function fromRow(r: CategoriesTable): Category {
  return { id: r.id, name: r.name, description: r.description, date: r.date, update_date: r.update_date };
}

function requireCategoryAdmin(user: AuthUser): void {
  if (!user.isAdmin) throw forbidden('This action requires administrator or maintainer privileges.', 'Access denied', ADMIN_HELP);
}
