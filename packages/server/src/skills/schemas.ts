/** Wire schemas of the skills API (reference models/skill.py, models/skill_event.py). */
import { z } from 'zod';
import { mcpServerDetailsSchema } from '../mcp/schemas.js';

export const SKILL_CATEGORIES = [
  'development',
  'engineering',
  'testing',
  'quality_assurance',
  'code_review',
  'documentation',
  'devops',
  'security',
  'compliance',
  'monitoring_alerts',
  'architecture',
  'ui_ux_design',
  'data_analysis',
  'data_analytics',
  'project_management',
  'product_management',
  'business_analysis',
  'migration_modernization',
  'support',
  'customer_experience',
  'knowledge_management',
  'training',
  'presales',
  'interview',
  'talent_acquisition',
  'other',
] as const;

export const VISIBILITIES = ['private', 'project', 'public'] as const;
export const MAX_CONTENT_LENGTH = 30_000;
export const MIN_CONTENT_LENGTH = 100;
export const MAX_CATEGORIES_ERROR = 'Maximum 3 categories allowed per skill';
/** Ceilings of a skill's companion (bundle) files. */
export const BUNDLE_MAX_FILE_COUNT = 50;
export const BUNDLE_MAX_FILE_SIZE_BYTES = 1024 * 1024;
export const BUNDLE_MAX_TOTAL_SIZE_BYTES = 5 * 1024 * 1024;

export const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$/;
const NAME_ERROR = 'Name must be kebab-case (lowercase letters, numbers, and hyphens). Must start and end with a letter or number.';

const nameSchema = z
  .string()
  .min(3, 'String should have at least 3 characters')
  .max(64, 'String should have at most 64 characters')
  .regex(NAME_PATTERN, NAME_ERROR);
const descriptionSchema = z.string().min(10, 'String should have at least 10 characters').max(1000, 'String should have at most 1000 characters');
const contentSchema = z
  .string()
  .min(MIN_CONTENT_LENGTH, `String should have at least ${MIN_CONTENT_LENGTH} characters`)
  .max(MAX_CONTENT_LENGTH, `String should have at most ${MAX_CONTENT_LENGTH} characters`);
const categoriesSchema = z.array(z.enum(SKILL_CATEGORIES)).max(3, MAX_CATEGORIES_ERROR);
const toolkitSchema = z
  .object({
    toolkit: z.string().max(200),
    tools: z
      .array(z.object({ name: z.string().max(200) }).passthrough())
      .max(200)
      .default([]),
  })
  .passthrough();
const subagentsSchema = z
  .array(z.enum(['GENERAL_PURPOSE_SUBAGENT']))
  .max(10)
  .transform((v) => [...new Set(v)]);

export const companionFilePayloadSchema = z.object({
  path: z.string().min(1).max(500),
  mime_type: z.string().max(200).default('text/plain'),
  encoding: z.enum(['text', 'base64']).default('text'),
  size_bytes: z.number().int().min(0).default(0),
  content: z.string().max(Math.ceil((BUNDLE_MAX_FILE_SIZE_BYTES * 4) / 3) + 8),
});

export const createSkillBody = z
  .object({
    name: nameSchema,
    description: descriptionSchema,
    content: contentSchema,
    project: z.string().min(1).max(200),
    visibility: z.enum(VISIBILITIES).default('private'),
    categories: categoriesSchema.default([]),
    toolkits: z.array(toolkitSchema).max(50).default([]),
    mcp_servers: z.array(mcpServerDetailsSchema).max(50).default([]),
    companion_files: z.array(companionFilePayloadSchema).max(BUNDLE_MAX_FILE_COUNT).default([]),
    enabled_builtin_subagents: subagentsSchema.default([]),
  })
  .meta({ id: 'SkillCreateRequest' });
export type CreateSkillBody = z.output<typeof createSkillBody>;

export const updateSkillBody = z
  .object({
    name: nameSchema.nullish(),
    description: descriptionSchema.nullish(),
    content: contentSchema.nullish(),
    project: z.string().min(1).max(200).nullish(),
    visibility: z.enum(VISIBILITIES).nullish(),
    categories: categoriesSchema.nullish(),
    toolkits: z.array(toolkitSchema).max(50).nullish(),
    mcp_servers: z.array(mcpServerDetailsSchema).max(50).nullish(),
    companion_files: z.array(companionFilePayloadSchema).max(BUNDLE_MAX_FILE_COUNT).nullish(),
    enabled_builtin_subagents: subagentsSchema.nullish(),
  })
  .meta({ id: 'SkillUpdateRequest' });
export type UpdateSkillBody = z.output<typeof updateSkillBody>;

export const importSkillBody = z
  .object({
    file_content: z.string().min(1).max(200_000),
    filename: z.string().min(1).max(500),
    project: z.string().min(1).max(200),
    visibility: z.enum(VISIBILITIES).default('private'),
  })
  .meta({ id: 'SkillImportRequest' });

export const attachBody = z.object({ skill_id: z.string().min(1).max(100) }).meta({ id: 'SkillAttachRequest' });
export const bulkAttachBody = z.object({ assistant_ids: z.array(z.string().min(1).max(100)).min(1).max(500) }).meta({ id: 'SkillBulkAttachRequest' });
export const publishBody = z.object({ categories: categoriesSchema.nullish() }).nullish();
export const reactionBody = z.object({ reaction: z.enum(['like', 'dislike']) });

export const generateInstructionsBody = z
  .object({
    description: z.string().max(10_000, 'Prompt must not exceed 10000 characters').nullish(),
    existing_instructions: z.string().max(MAX_CONTENT_LENGTH).nullish(),
    skill_name: z.string().max(64).nullish(),
    llm_model: z.string().max(200).nullish(),
  })
  .meta({ id: 'SkillInstructionsGenerateRequest' });

const opt = (max: number) => z.string().max(max).nullish();
export const skillEventBody = z
  .object({
    session_id: z.string().min(1).max(128),
    command: z.enum(['add', 'update', 'remove', 'list', 'find']),
    status: z.enum(['started', 'completed', 'failed']),
    scope: z.enum(['global', 'project', 'unknown']).nullish(),
    error_code: opt(128),
    agent_selection_mode: z.enum(['explicit', 'auto_detected', 'prompted', 'upstream']).nullish(),
    target_agents: z.array(z.string().max(200)).max(100).nullish(),
    source: opt(512),
    skill_name: opt(256),
    skill_slug: opt(256),
    skill_id: opt(1024),
    agent: z.string().max(64).nullish(),
    agent_version: opt(64),
    repository: opt(512),
    branch: opt(256),
    project: opt(256),
    attributes: z.record(z.string(), z.unknown()).nullish(),
  })
  .meta({ id: 'SkillEventRequest' });
export type SkillEventBody = z.output<typeof skillEventBody>;

// ── responses ──

/** The reference's CreatedByUser (id, username, name) plus `user_id`, the field the official SDK's User model reads. */
const createdBy = z.object({ id: z.string(), user_id: z.string(), username: z.string(), name: z.string() });
const abilities = z.array(z.enum(['read', 'write', 'delete']));

export const skillListItemSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    project: z.string(),
    visibility: z.enum(VISIBILITIES),
    created_by: createdBy.nullable(),
    categories: z.array(z.string()),
    createdDate: z.string(),
    updatedDate: z.string().nullable(),
    is_attached: z.boolean(),
    assistants_count: z.number().int(),
    user_abilities: abilities,
    unique_likes_count: z.number().int(),
    unique_dislikes_count: z.number().int(),
  })
  .meta({ id: 'SkillListResponse' });

export const companionFileMetaSchema = z
  .object({ path: z.string(), mime_type: z.string(), encoding: z.string(), size_bytes: z.number().int() })
  .meta({ id: 'SkillCompanionFileMetadata' });
export const companionFileSchema = companionFileMetaSchema.extend({ content: z.string() }).meta({ id: 'SkillCompanionFileResponse' });

export const skillDetailSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    content: z.string(),
    project: z.string(),
    display_name: z.string().nullable(),
    visibility: z.enum(VISIBILITIES),
    created_by: createdBy.nullable(),
    categories: z.array(z.string()),
    createdDate: z.string(),
    updatedDate: z.string().nullable(),
    assistants_count: z.number().int(),
    user_abilities: abilities,
    unique_likes_count: z.number().int(),
    unique_dislikes_count: z.number().int(),
    toolkits: z.array(z.unknown()),
    mcp_servers: z.array(z.unknown()),
    companion_files: z.array(companionFileMetaSchema),
    enabled_builtin_subagents: z.array(z.string()),
  })
  .meta({ id: 'SkillDetailResponse' });

export const skillPageSchema = z
  .object({ skills: z.array(skillListItemSchema), page: z.number().int(), perPage: z.number().int(), total: z.number().int(), pages: z.number().int() })
  .meta({ id: 'SkillListPaginatedResponse' });

export const categoryItemSchema = z.object({ value: z.string(), label: z.string() });
export const skillUserSchema = createdBy;
export const skillConfigSchema = z
  .object({
    max_content_length: z.number().int(),
    min_content_length: z.number().int(),
    bundle_seed_max_file_count: z.number().int(),
    bundle_seed_max_file_size_bytes: z.number().int(),
    bundle_seed_max_total_size_bytes: z.number().int(),
  })
  .meta({ id: 'SkillConfigResponse' });
export const bulkAttachResponseSchema = z.object({
  message: z.string(),
  success_count: z.number().int(),
  total_requested: z.number().int(),
  failures: z.array(z.object({ assistant_id: z.string(), reason: z.string() })),
});
export const reactionResponseSchema = z.object({
  success: z.boolean(),
  reaction: z.enum(['like', 'dislike']).nullable(),
  like_count: z.number().int(),
  dislike_count: z.number().int(),
  error: z.string().nullable(),
});
export const instructionsResponseSchema = z
  .object({ instructions: z.string(), metadata: z.record(z.string(), z.unknown()) })
  .meta({ id: 'SkillInstructionsGenerateResponse' });

export const skillEventResponseSchema = z.object({ id: z.string(), success: z.boolean(), message: z.string() });
const paginationData = z.object({ page: z.number().int(), per_page: z.number().int(), total: z.number().int(), pages: z.number().int() });
export const skillEventLogSchema = z.object({
  data: z.array(
    z.object({
      skill_slug: z.string().nullable(),
      source: z.string().nullable(),
      target_agents: z.array(z.string()),
      date: z.string(),
      command: z.string(),
      user_id: z.string(),
      user_email: z.string().nullable(),
    }),
  ),
  pagination: paginationData,
});
const statsCounts = {
  installs: z.number().int(),
  removals: z.number().int(),
  by_agent: z.record(z.string(), z.number().int()),
  by_source: z.record(z.string(), z.number().int()),
  /** Extension: loads of the skill by assistants (the `skill` tool). */
  uses: z.number().int(),
};
export const skillStatsListSchema = z.object({
  data: z.array(z.object({ skill_slug: z.string().nullable(), ...statsCounts })),
  pagination: paginationData,
});
export const skillStatsSchema = z.object(statsCounts);
