/**
 * Wire schemas of the projects API (the reference's routers/projects.py and admin.py, as the
 * official Python SDK reads them: snake_case, no top-level `data` key where the SDK unwraps it).
 */
import { z } from 'zod';
import { boolQuery, intQuery } from '../api/schemas.js';

// ── requests ──

/** Validation texts as the reference's pydantic models word them (the message the client sees). */
const requiredText = () => ({ error: (iss: { input: unknown }) => (iss.input === undefined ? 'Field required' : 'Input should be a valid string') });

export const projectCreateBody = z.object({
  name: z.string(requiredText()),
  display_name: z.string().nullish(),
  description: z.string().nullish(),
  cost_center_id: z.uuid({ error: 'Input should be a valid UUID' }).nullish(),
  cli_analytics_enabled: z.boolean().nullish(),
});

export const projectUpdateBody = z
  .object({
    name: z.string().nullish(),
    display_name: z.string().nullish(),
    clear_display_name: z.boolean().default(false),
    description: z.string().nullish(),
    clear_description: z.boolean().default(false),
    cost_center_id: z.uuid({ error: 'Input should be a valid UUID' }).nullish(),
    clear_cost_center: z.boolean().default(false),
    enforce_member_spend_limits: z.boolean().nullish(),
    chargeback_enabled: z.boolean().nullish(),
    chargeback_attribution: z.string().nullish(),
    cli_analytics_enabled: z.boolean().nullish(),
  })
  .superRefine((b, ctx) => {
    const given = (v: unknown) => v !== undefined && v !== null;
    const fail = (message: string) => ctx.addIssue({ code: 'custom', message: `Value error, ${message}`, path: [] });
    if (given(b.cost_center_id) && b.clear_cost_center) return fail('Provide either cost_center_id or clear_cost_center');
    if (given(b.display_name) && b.clear_display_name) return fail('Provide either display_name or clear_display_name');
    if (given(b.description) && b.clear_description) return fail('Provide either description or clear_description');
    const mutable =
      [
        b.name,
        b.display_name,
        b.description,
        b.cost_center_id,
        b.enforce_member_spend_limits,
        b.chargeback_enabled,
        b.chargeback_attribution,
        b.cli_analytics_enabled,
      ].some(given) ||
      b.clear_display_name ||
      b.clear_description ||
      b.clear_cost_center;
    if (!mutable) fail('At least one mutable field must be provided');
  });

export const projectListQuery = z.object({
  search: z.string().max(500).optional(),
  page: intQuery({ min: 0 }).default(0),
  per_page: intQuery({ min: 10, max: 100 }).default(20),
  include_counters: boolQuery(true),
  include_spending: boolQuery(false),
  include_budgets: boolQuery(false),
  has_assigned_budgets: boolQuery(false),
  budget_category: z.enum(['cli', 'platform', 'premium_models']).optional(),
  sort_by: z.enum(['name', 'created_at']).optional(),
  sort_order: z.enum(['asc', 'desc']).default('asc'),
});

export const projectParams = z.object({ projectName: z.string().min(1).max(255) });
export const projectUserParams = z.object({ projectName: z.string().min(1).max(255), userId: z.string().min(1).max(255) });

export const assignmentBody = z.object({
  user_id: z.string(requiredText()),
  is_project_admin: z.boolean({ error: (i) => (i.input === undefined ? 'Field required' : 'Input should be a valid boolean') }),
});
export const assignmentUpdateBody = z.object({
  is_project_admin: z.boolean({ error: (i) => (i.input === undefined ? 'Field required' : 'Input should be a valid boolean') }),
});

export const bulkAssignBody = z.object({
  users: z
    .array(assignmentBody, { error: (i) => (i.input === undefined ? 'Field required' : 'Input should be a valid list') })
    .min(1, { error: (i) => `List should have at least 1 item after validation, not ${(i.input as unknown[]).length}` })
    .max(1000, { error: (i) => `List should have at most 1000 items after validation, not ${(i.input as unknown[]).length}` }),
});

/** `?user_id=a&user_id=b` (1..100). */
export const bulkRemoveQuery = z.object({
  user_id: z.preprocess(
    (v) => (v === undefined || Array.isArray(v) ? v : [v]),
    z
      .array(z.string().max(255), { error: (i) => (i.input === undefined ? 'Field required' : 'Input should be a valid list') })
      .min(1, 'List should have at least 1 item after validation, not 0')
      .max(100, { error: (i) => `List should have at most 100 items after validation, not ${(i.input as unknown[]).length}` }),
  ),
});

export const ownershipBody = z.object({ user_id: z.string(requiredText()).min(1).max(255) });

export const applicationsQuery = z.object({
  search: z.string().max(500).optional(),
  limit: intQuery({ min: 1, max: 100_000 }).optional(),
});
export const applicationBody = z.object({ name: z.string(requiredText()).min(1, 'String should have at least 1 character').max(255) });

// ── responses ──

export const projectCountersSchema = z
  .object({
    assistants_count: z.number().int(),
    workflows_count: z.number().int(),
    integrations_count: z.number().int(),
    datasources_count: z.number().int(),
    skills_count: z.number().int(),
  })
  .meta({ id: 'ProjectCounters' });

/** Fields every project shape shares. */
const projectBase = {
  name: z.string(),
  display_name: z.string().nullable(),
  description: z.string().nullable(),
  project_type: z.enum(['shared', 'personal']),
  created_by: z.string().nullable(),
  created_at: z.string().nullable(),
  cost_center_id: z.string().nullable(),
  cost_center_name: z.string().nullable(),
  chargeback_enabled: z.boolean(),
  chargeback_attribution: z.string(),
  cli_analytics_enabled: z.boolean().nullable(),
};

export const projectSchema = z
  .object({
    ...projectBase,
    created_by: z.string(),
    created_at: z.string(),
    enforce_member_spend_limits: z.boolean(),
  })
  .meta({ id: 'Project', description: 'A project as created or updated (the reference ProjectCreateResponse).' });

export const projectListItemSchema = z
  .object({
    ...projectBase,
    user_count: z.number().int(),
    admin_count: z.number().int(),
    counters: projectCountersSchema.nullable(),
    /** No spend tracking here: always null. */
    spending: z.number().nullable(),
    /** No budget provider here: always null. */
    budgets: z.array(z.unknown()).nullable(),
  })
  .meta({ id: 'ProjectListItem' });

export const projectListSchema = z
  .object({
    data: z.array(projectListItemSchema),
    pagination: z.object({ total: z.number().int(), page: z.number().int(), per_page: z.number().int(), pages: z.number().int() }),
  })
  .meta({ id: 'ProjectList' });

export const projectMemberSchema = z.object({ user_id: z.string(), is_project_admin: z.boolean(), date: z.string().nullable() }).meta({ id: 'ProjectMember' });

export const projectDetailSchema = z
  .object({
    ...projectBase,
    user_count: z.number().int(),
    admin_count: z.number().int(),
    enforce_member_spend_limits: z.boolean(),
    members: z.array(projectMemberSchema),
    spending: z.null(),
    spending_widget: z.null(),
  })
  .meta({ id: 'ProjectDetail' });

export const projectDeleteSchema = z.object({ message: z.string(), name: z.string() }).meta({ id: 'ProjectDeleteResponse' });
export const ownershipSchema = z.object({ name: z.string(), created_by: z.string(), message: z.string() }).meta({ id: 'ProjectOwnershipResponse' });

export const assignmentSchema = z
  .object({ message: z.string(), user_id: z.string(), project_name: z.string(), is_project_admin: z.boolean().nullable() })
  .meta({ id: 'ProjectAssignmentResponse' });

export const bulkAssignmentSchema = z
  .object({
    message: z.string(),
    project_name: z.string(),
    total: z.number().int(),
    results: z.array(z.object({ user_id: z.string(), action: z.enum(['assigned', 'updated', 'removed']), is_project_admin: z.boolean().nullable() })),
  })
  .meta({ id: 'BulkAssignmentResponse' });

export const csvValidationSchema = z
  .object({ users: z.array(z.object({ email: z.string(), role: z.string(), error: z.string().nullable() })) })
  .meta({ id: 'CsvImportValidationResponse' });

export const applicationsSchema = z
  .object({ applications: z.array(z.object({ name: z.string(), display_name: z.string().nullable(), displayName: z.string().nullable() })) })
  .meta({ id: 'ApplicationsResponse' });

export type ProjectWire = z.output<typeof projectSchema>;
export type ProjectListItemWire = z.output<typeof projectListItemSchema>;
export type ProjectDetailWire = z.output<typeof projectDetailSchema>;
export type ProjectCounters = z.output<typeof projectCountersSchema>;
export type BulkAssignmentWire = z.output<typeof bulkAssignmentSchema>;
export type CsvValidationWire = z.output<typeof csvValidationSchema>;
