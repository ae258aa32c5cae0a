/**
 * `/v1/assistants/categories...` (reference `routers/category.py`). Category responses carry the
 * reference's camelCase counts and dates and the Python SDK's snake_case counts; the paged list
 * carries both list shapes (`categories`/`pages` of the reference, `items`/`metadata` of the SDK).
 */
import { z } from 'zod';
import { defineRoute, Reply, type Route } from '../api/route.js';
import { intQuery } from '../api/schemas.js';
import type { CategoryService, CategoryWithCounts } from './service.js';

const categorySchema = z
  .object({ id: z.string(), name: z.string(), description: z.string().nullable(), date: z.string(), update_date: z.string() })
  .meta({ id: 'Category' });

const categoryResponseSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    marketplaceAssistantCount: z.number().int(),
    projectAssistantCount: z.number().int(),
    marketplace_count: z.number().int(),
    project_count: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'CategoryResponse' });

const categoryListSchema = z
  .object({
    categories: z.array(categoryResponseSchema),
    page: z.number().int(),
    per_page: z.number().int(),
    total: z.number().int(),
    pages: z.number().int(),
    items: z.array(categoryResponseSchema),
    metadata: z.object({ page: z.number().int(), per_page: z.number().int(), total: z.number().int(), total_pages: z.number().int() }),
  })
  .meta({ id: 'CategoryList' });

const body = z.object({ name: z.string().min(1).max(255), description: z.string().max(1000).nullish() }).meta({ id: 'CategoryWrite' });
const idParams = z.object({ category_id: z.string().min(1).max(300) });
const listQuery = z.object({
  page: intQuery({ min: 0 }).default(0),
  per_page: intQuery({ min: 1, max: 100 }).default(10),
});

function response(c: CategoryWithCounts) {
  return {
    id: c.id,
    name: c.name,
    description: c.description,
    marketplaceAssistantCount: c.marketplace_count,
    projectAssistantCount: c.project_count,
    marketplace_count: c.marketplace_count,
    project_count: c.project_count,
    createdAt: c.date,
    updatedAt: c.update_date,
  };
}

export function categoryRoutes(categories: CategoryService): Route[] {
  const tags = ['categories'];
  return [
    defineRoute({
      method: 'GET',
      path: '/assistants/categories',
      tags,
      access: 'public',
      summary: 'Every category, by name (no token needed, as the reference)',
      responses: { 200: z.array(categorySchema) },
      handler: () => categories.list(),
    }),
    defineRoute({
      method: 'GET',
      path: '/assistants/categories/list',
      tags,
      summary: 'Categories with usage counts, paged (administrators)',
      query: listQuery,
      responses: { 200: categoryListSchema },
      errors: [403],
      async handler({ query, user }) {
        const { items, total } = await categories.pageFor(user, query.page, query.per_page);
        const pages = Math.ceil(total / query.per_page);
        const list = items.map(response);
        return {
          categories: list,
          page: query.page,
          per_page: query.per_page,
          total,
          pages,
          items: list,
          metadata: { page: query.page, per_page: query.per_page, total, total_pages: pages },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/assistants/categories/:category_id',
      tags,
      summary: 'A category with its usage counts (administrators)',
      params: idParams,
      responses: { 200: categoryResponseSchema },
      errors: [403, 404],
      handler: async ({ params, user }) => response(await categories.get(params.category_id, user)),
    }),
    defineRoute({
      method: 'POST',
      path: '/assistants/categories',
      tags,
      summary: 'Create a category; its id is the name in lower case with _ for spaces (administrators)',
      body,
      responses: { 201: categoryResponseSchema },
      errors: [403, 409],
      handler: async ({ body: b, user }) => response(await categories.create(b, user)),
    }),
    defineRoute({
      method: 'PUT',
      path: '/assistants/categories/:category_id',
      tags,
      summary: 'Rename or describe a category (administrators)',
      params: idParams,
      body,
      responses: { 200: categoryResponseSchema },
      errors: [403, 404, 409],
      handler: async ({ params, body: b, user }) => response(await categories.update(params.category_id, b, user)),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/assistants/categories/:category_id',
      tags,
      summary: 'Delete a category no assistant uses (administrators); 204',
      params: idParams,
      responses: { 204: z.null().meta({ description: 'Deleted (no body)' }) },
      errors: [403, 404, 409],
      async handler({ params, user }) {
        await categories.delete(params.category_id, user);
        return new Reply(204, null);
      },
    }),
  ];
}
