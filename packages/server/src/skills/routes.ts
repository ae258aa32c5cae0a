/**
 * The skills routes (reference routers/skill.py and skill_events.py): CRUD, categories, users,
 * config, import/export, companion files, attaching to assistants, reactions, marketplace,
 * instructions drafted by a model, and the skill event log with its stats.
 */
import { z } from 'zod';
import { defineRoute, RawBody, Reply, type Route } from '../api/route.js';
import { parseFilters } from '../api/pagination.js';
import { intQuery, messageSchema } from '../api/schemas.js';
import {
  attachBody,
  bulkAttachBody,
  bulkAttachResponseSchema,
  categoryItemSchema,
  companionFileMetaSchema,
  companionFileSchema,
  createSkillBody,
  generateInstructionsBody,
  importSkillBody,
  instructionsResponseSchema,
  publishBody,
  reactionBody,
  reactionResponseSchema,
  SKILL_CATEGORIES,
  skillConfigSchema,
  skillDetailSchema,
  skillEventBody,
  skillEventLogSchema,
  skillEventResponseSchema,
  skillListItemSchema,
  skillPageSchema,
  skillStatsListSchema,
  skillStatsSchema,
  skillUserSchema,
  updateSkillBody,
} from './schemas.js';
import type { SkillService } from './service.js';
import { ApiError } from '../api/errors.js';

const skillParams = z.object({ skill_id: z.string().min(1).max(200) });
const assistantParams = z.object({ assistant_id: z.string().min(1).max(200) });
const listQuery = z.object({
  filters: z.string().max(10_000).optional(),
  assistant_id: z.string().max(200).optional(),
  page: intQuery({ min: 0 }).default(0),
  per_page: intQuery({ min: 1, max: 100 }).default(20),
  sort_by: z.enum(['created_date', 'assistants_count', 'relevance']).optional(),
});
const isoDate = z
  .string()
  .max(64)
  .refine((v) => !Number.isNaN(Date.parse(v)), 'Input should be a valid datetime')
  .transform((v) => new Date(v).toISOString());
const eventsQuery = z.object({
  from: isoDate.optional(),
  to: isoDate.optional(),
  limit: intQuery({ min: 1, max: 1000 }).default(100),
  offset: intQuery({ min: 0 }).default(0),
});
const headerText = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

export function skillRoutes(skills: SkillService): Route[] {
  const tags = ['Skills'];
  return [
    defineRoute({
      method: 'GET',
      path: '/skills',
      tags,
      summary: 'Skills the caller may read, filtered (JSON `filters`: scope, project, visibility, categories, search, created_by) and sorted',
      query: listQuery,
      responses: { 200: skillPageSchema },
      errors: [400],
      handler: ({ query, user }) =>
        skills.list(user, {
          filters: parseFilters(
            query.filters,
            'Filters must be a valid encoded JSON object.',
            'Please check the filters and ensure they are in the correct format.',
          ),
          assistantId: query.assistant_id,
          page: query.page,
          perPage: query.per_page,
          sortBy: query.sort_by,
        }),
    }),
    defineRoute({
      method: 'GET',
      path: '/skills/categories',
      tags,
      summary: 'The skill categories',
      responses: { 200: z.array(categoryItemSchema) },
      handler: () => SKILL_CATEGORIES.map((c) => ({ value: c, label: c.replace(/_/g, ' ').replace(/\b\w/g, (m) => m.toUpperCase()) })),
    }),
    defineRoute({
      method: 'GET',
      path: '/skills/users',
      tags,
      summary: 'Authors of the skills the caller may read',
      responses: { 200: z.array(skillUserSchema) },
      handler: ({ user }) => skills.users(user),
    }),
    defineRoute({
      method: 'GET',
      path: '/skills/config',
      tags,
      summary: 'Content length limits and companion-file ceilings of skills',
      responses: { 200: skillConfigSchema },
      handler: () => skills.config(),
    }),
    defineRoute({
      method: 'POST',
      path: '/skills',
      tags,
      summary: 'Create a skill (kebab-case name unique per author and project)',
      body: createSkillBody,
      responses: { 201: skillDetailSchema },
      errors: [400, 403, 409],
      handler: async ({ body, user }) => new Reply(201, await skills.create(body, user)),
    }),
    defineRoute({
      method: 'POST',
      path: '/skills/import',
      tags,
      summary: 'Import a skill from a base64-encoded SKILL.md (YAML frontmatter with name and description)',
      body: importSkillBody,
      responses: { 201: skillDetailSchema },
      errors: [400, 403, 409],
      handler: async ({ body, user }) => new Reply(201, await skills.import(body, user)),
    }),
    defineRoute({
      method: 'POST',
      path: '/skills/instructions/generate',
      tags,
      summary: 'Draft (or refine) skill instructions with the configured model',
      body: generateInstructionsBody,
      responses: { 200: instructionsResponseSchema },
      errors: [400, 500],
      startsRun: true,
      handler: async ({ body, signal, req, admission, user }) => {
        await admission.admit(user.projects[0] ?? 'demo');
        return skills.generateInstructions(body, signal, req.id);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/skills/:skill_id',
      tags,
      summary: 'A skill with its content',
      params: skillParams,
      responses: { 200: skillDetailSchema },
      errors: [403, 404],
      handler: ({ params, user }) => skills.get(params.skill_id, user),
    }),
    defineRoute({
      method: 'PUT',
      path: '/skills/:skill_id',
      tags,
      summary: 'Update a skill (owner, project admin, administrator)',
      params: skillParams,
      body: updateSkillBody,
      responses: { 200: skillDetailSchema },
      errors: [400, 403, 404, 409],
      handler: ({ params, body, user }) => skills.update(params.skill_id, body, user),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/skills/:skill_id',
      tags,
      summary: 'Delete a skill (it leaves every assistant it was attached to); 204',
      params: skillParams,
      responses: { 204: z.null().meta({ description: 'Deleted (no body)' }) },
      errors: [403, 404],
      async handler({ params, user }) {
        await skills.delete(params.skill_id, user);
        return new Reply(204, null);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/skills/:skill_id/export',
      tags,
      summary: 'The skill as a SKILL.md file (frontmatter with name and description, then the content)',
      params: skillParams,
      responses: { 200: { contentType: 'text/markdown', description: 'The skill file' } },
      errors: [403, 404],
      async handler({ params, user }) {
        const r = await skills.export(params.skill_id, user);
        return new RawBody('text/markdown; charset=utf-8', r.content, { 'content-disposition': `attachment; filename="${r.filename}"` });
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/skills/:skill_id/companion-files',
      tags,
      summary: "The skill's companion files (metadata only)",
      params: skillParams,
      responses: { 200: z.array(companionFileMetaSchema) },
      errors: [403, 404],
      handler: ({ params, user }) => skills.companionList(params.skill_id, user),
    }),
    defineRoute({
      method: 'GET',
      path: '/skills/:skill_id/companion-files/content',
      tags,
      summary: 'One companion file with its content',
      params: skillParams,
      query: z.object({ path: z.string().min(1).max(500) }),
      responses: { 200: companionFileSchema },
      errors: [400, 403, 404],
      handler: ({ params, query, user }) => skills.companionFile(params.skill_id, query.path, user),
    }),
    defineRoute({
      method: 'GET',
      path: '/skills/:skill_id/assistants',
      tags,
      summary: 'Assistants (readable by the caller) that have the skill attached',
      params: skillParams,
      responses: { 200: z.array(z.record(z.string(), z.unknown())) },
      errors: [403, 404],
      handler: async ({ params, user }) => (await skills.skillAssistants(params.skill_id, user)) as Array<Record<string, unknown>>,
    }),
    defineRoute({
      method: 'POST',
      path: '/skills/:skill_id/assistants/bulk-attach',
      tags,
      summary: 'Attach the skill to several assistants; failures are listed, not fatal',
      params: skillParams,
      body: bulkAttachBody,
      responses: { 200: bulkAttachResponseSchema },
      errors: [403, 404],
      handler: ({ params, body, user }) => skills.bulkAttach(params.skill_id, body.assistant_ids, user),
    }),
    defineRoute({
      method: 'POST',
      path: '/skills/:skill_id/reactions',
      tags,
      summary: 'Like or dislike a skill (the same reaction again removes it)',
      params: skillParams,
      body: reactionBody,
      responses: { 200: reactionResponseSchema },
      errors: [403, 404],
      handler: ({ params, body, user }) => skills.react(params.skill_id, body.reaction, user),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/skills/:skill_id/reactions',
      tags,
      summary: "Remove the caller's reaction on a skill",
      params: skillParams,
      responses: { 200: reactionResponseSchema },
      errors: [403, 404],
      handler: ({ params, user }) => skills.react(params.skill_id, null, user),
    }),
    defineRoute({
      method: 'POST',
      path: '/skills/:skill_id/marketplace/publish',
      tags,
      summary: 'Publish a skill to the marketplace (visibility public), optionally setting its categories',
      params: skillParams,
      body: publishBody,
      responses: { 200: messageSchema },
      errors: [403, 404],
      async handler({ params, body, user }) {
        await skills.publish(params.skill_id, user, body?.categories);
        return { message: `Skill ${params.skill_id} published to marketplace successfully` };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/skills/:skill_id/marketplace/unpublish',
      tags,
      summary: 'Take a skill off the marketplace (visibility private)',
      params: skillParams,
      responses: { 200: messageSchema },
      errors: [403, 404],
      async handler({ params, user }) {
        await skills.unpublish(params.skill_id, user);
        return { message: `Skill ${params.skill_id} unpublished from marketplace successfully` };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/assistants/:assistant_id/skills',
      tags,
      summary: 'Skills attached to an assistant (those the caller may read)',
      params: assistantParams,
      responses: { 200: z.array(skillListItemSchema) },
      errors: [404],
      handler: ({ params, user }) => skills.assistantSkills(params.assistant_id, user),
    }),
    defineRoute({
      method: 'POST',
      path: '/assistants/:assistant_id/skills',
      tags,
      summary: 'Attach a skill to an assistant (the caller may change the assistant and read the skill)',
      params: assistantParams,
      body: attachBody,
      responses: { 200: messageSchema },
      errors: [403, 404],
      async handler({ params, body, user }) {
        await skills.attach(params.assistant_id, body.skill_id, user);
        return { message: 'Skill attached successfully' };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/assistants/:assistant_id/skills/:skill_id',
      tags,
      summary: 'Detach a skill from an assistant',
      params: assistantParams.extend(skillParams.shape),
      responses: { 200: messageSchema },
      errors: [403, 404],
      async handler({ params, user }) {
        await skills.detach(params.assistant_id, params.skill_id, user);
        return { message: 'Skill detached successfully' };
      },
    }),
    // ── skill event log (the CLI's `codemie skill *`, and uses by assistants) ──
    defineRoute({
      method: 'POST',
      path: '/skills/events',
      tags,
      summary: 'Record one skill lifecycle event',
      body: skillEventBody,
      responses: { 200: skillEventResponseSchema },
      async handler({ body, user, req }) {
        try {
          return await skills.recordEvent(body, user, { cli: headerText(req.headers['x-codemie-cli']), client: headerText(req.headers['x-codemie-client']) });
        } catch (err) {
          if (err instanceof ApiError) throw err;
          throw new ApiError(
            500,
            'Failed to record skill event',
            `command=${body.command} status=${body.status} error=${(err as Error).message}`,
            'Please retry; if the issue persists, contact support.',
          );
        }
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/skills/events',
      tags,
      summary: 'Install/remove events, newest first (administrators see everyone’s, others their own)',
      query: eventsQuery,
      responses: { 200: skillEventLogSchema },
      handler: ({ query, user }) => skills.eventLog(user, query),
    }),
    defineRoute({
      method: 'GET',
      path: '/skills/events/stats',
      tags,
      summary: 'Per-skill installs, removals (by agent and source) and uses by assistants, top installed first',
      query: eventsQuery,
      responses: { 200: skillStatsListSchema },
      handler: ({ query }) => skills.stats(query),
    }),
    defineRoute({
      method: 'GET',
      path: '/skills/events/:skill_slug/stats',
      tags,
      summary: 'Installs, removals and uses of one skill',
      params: z.object({ skill_slug: z.string().min(1).max(256) }),
      responses: { 200: skillStatsSchema },
      errors: [404],
      handler: ({ params }) => skills.slugStats(params.skill_slug),
    }),
  ];
}
