/** Wire shapes of the datasource routes (the reference's IndexInfo, snake_case). */
import { z } from 'zod';

const userSchema = z.object({ id: z.string(), username: z.string(), name: z.string() });

export const datasourceListItemSchema = z
  .object({
    id: z.string(),
    project_name: z.string(),
    display_name: z.string().nullable(),
    repo_name: z.string(),
    index_type: z.string(),
    created_by: userSchema,
    project_space_visible: z.boolean(),
    link: z.string().nullable(),
    date: z.string(),
    update_date: z.string(),
    setting_id: z.string().nullable(),
    text: z.string(),
    full_name: z.string(),
    current_state: z.number().int(),
    complete_state: z.number().int(),
    current__chunks_state: z.number().int(),
    error: z.boolean(),
    completed: z.boolean(),
    is_fetching: z.boolean(),
    is_queued: z.boolean(),
    user_abilities: z.array(z.enum(['read', 'write', 'delete'])),
    jira: z.unknown().nullable(),
    xray: z.unknown().nullable(),
    sharepoint: z.unknown().nullable(),
    aice_datasource_id: z.string().nullable(),
    cron_expression: z.string().nullable(),
  })
  .meta({ id: 'DatasourceListItem' });

export const fileStatusSchema = z.object({
  name: z.string(),
  status: z.enum(['pending', 'indexed', 'skipped', 'failed']),
  error: z.string().nullable(),
  chunks: z.number().int(),
  size: z.number().int(),
});

export const datasourceSchema = datasourceListItemSchema
  .extend({
    description: z.string(),
    embeddings_model: z.string().nullable(),
    summarization_model: z.string().nullable(),
    prompt: z.string().nullable(),
    branch: z.string().nullable(),
    files_filter: z.string(),
    google_doc_link: z.string(),
    docs_generation: z.boolean(),
    vcs_type: z.string(),
    processed_files: z.array(z.string()),
    uploaded_files: z.array(z.string()),
    processing_info: z.record(z.string(), z.unknown()),
    tokens_usage: z.unknown().nullable(),
    updated_by: userSchema.nullable(),
    confluence: z.unknown().nullable(),
    azure_devops_wiki: z.unknown().nullable(),
    azure_devops_work_item: z.unknown().nullable(),
    provider_fields: z.unknown().nullable(),
    bedrock: z.unknown().nullable(),
    guardrail_assignments: z.array(z.unknown()).nullable(),
    last_reindex_date: z.string().nullable(),
    last_reindex_triggered_at: z.string().nullable(),
    timezone: z.string(),
    lifecycle_state: z.string(),
    /** Ours: what happened to each uploaded file (per-file errors). */
    file_statuses: z.array(fileStatusSchema),
  })
  .meta({ id: 'Datasource' });

export type DatasourceWire = z.infer<typeof datasourceSchema>;
export type DatasourceListWire = z.infer<typeof datasourceListItemSchema>;

export const datasourceListSchema = z
  .object({
    data: z.array(z.union([datasourceSchema, datasourceListItemSchema])),
    pagination: z.object({ page: z.number().int(), per_page: z.number().int(), total: z.number().int(), pages: z.number().int() }),
  })
  .meta({ id: 'DatasourceList' });

export const toolInvokeSchema = z.object({ output: z.string().nullable(), error: z.string().nullable(), metadata: z.unknown().nullable() });

export const healthSchema = z.object({ implemented: z.boolean(), documents_count: z.number().int().nullable(), error: z.unknown().nullable() });

export const statsSchema = z.object({ index_name: z.string(), size_in_bytes: z.number().int().min(0) });

export const contextItemSchema = z.object({ name: z.string(), context_type: z.enum(['knowledge_base', 'code', 'provider']), id: z.string() });

export const assistantRefSchema = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string().nullable(),
  project: z.string(),
  type: z.string(),
  description: z.string(),
  icon_url: z.string().nullable(),
  created_by: z.object({ id: z.string(), username: z.string(), name: z.string() }).nullable(),
  user_abilities: z.array(z.string()).nullable(),
  unique_users_count: z.number().int(),
  unique_likes_count: z.number().int(),
  unique_dislikes_count: z.number().int(),
  categories: z.array(z.string()),
  is_global: z.boolean(),
  shared: z.boolean(),
  origin: z.string(),
});
