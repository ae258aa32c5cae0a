/**
 * The categories module: the marketplace's categories, used by assistants (and workflows).
 * Other domains use CategoryService: `list()`, `byIds(ids)`, `problem(ids, required)` (why ids
 * cannot be saved) and `registerUsage(counter)` (their usage counts, for the admin views and the
 * delete guard).
 */
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import { categoryRoutes } from './routes.js';
import { CategoryService } from './service.js';

export function categoriesModule(infra: Infra): Module<CategoryService> {
  const categories = new CategoryService(infra.store.db);
  return { name: 'categories', services: categories, routes: categoryRoutes(categories) };
}
