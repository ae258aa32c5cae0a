/** Wire schemas of the assistants API (reference §3), snake_case like the reference. */
import { z } from 'zod';
import { mcpServerDetailsSchema } from '../mcp/schemas.js';

const toolkitSchema = z
  .object({
    toolkit: z.string(),
    tools: z.array(z.object({ name: z.string() }).passthrough()).default([]),
    label: z.string().default(''),
    settings_config: z.boolean().default(false),
    is_external: z.boolean().default(false),
  })
  .passthrough()
  .meta({ id: 'ToolKitDetails' });

const contextSchema = z.object({ context_type: z.string(), name: z.string() }).passthrough().meta({ id: 'Context' });

/** Fields shared by create and update; NUL bytes are stripped like the reference does. */
const noNul = (s: z.ZodString) => s.transform((v) => v.replace(/\0/g, ''));

export const assistantFields = {
  name: noNul(z.string().min(1).max(500)),
  description: noNul(z.string().max(20_000)).nullish(),
  system_prompt: noNul(z.string().max(200_000)).nullish(),
  llm_model_type: z.string().max(200).nullish(),
  project: z.string().min(1).max(200).default('demo'),
  shared: z.boolean().default(true),
  slug: z
    .string()
    .max(300)
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes')
    .nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  conversation_starters: z.array(z.string().max(2000)).max(50).default([]),
  mcp_servers: z.array(mcpServerDetailsSchema).max(50).default([]),
  toolkits: z.array(toolkitSchema).default([]),
  context: z.array(contextSchema).default([]),
  icon_url: z.string().max(2000).nullish(),
  categories: z.array(z.string()).max(3).default([]),
  is_react: z.boolean().default(true),
  is_global: z.boolean().nullish(),
  custom_metadata: z.record(z.string(), z.unknown()).nullish(),
  assistant_ids: z.array(z.string()).default([]),
};

export const createAssistantBody = z.object(assistantFields).passthrough().meta({ id: 'AssistantCreate' });
export type CreateAssistantBody = z.output<typeof createAssistantBody>;

/** Update: only the fields sent overwrite (create's defaults are NOT applied, or `project` would reset to "demo"). */
const withoutDefault = (v: z.ZodType): z.ZodType => (v instanceof z.ZodDefault ? (v.unwrap() as z.ZodType) : v);
export const updateAssistantBody = z
  .object(
    Object.fromEntries(Object.entries(assistantFields).map(([k, v]) => [k, withoutDefault(v as z.ZodType).optional()])) as {
      [K in keyof typeof assistantFields]: z.ZodOptional<z.ZodType<Exclude<z.output<(typeof assistantFields)[K]>, undefined>>>;
    },
  )
  .passthrough()
  .meta({ id: 'AssistantUpdate' });
export type UpdateAssistantBody = z.output<typeof updateAssistantBody>;

const historyItem = z.object({ role: z.string(), message: z.string().nullish() }).passthrough();

/**
 * The call body. Accepts snake_case and camelCase (the reference's pydantic model populates by
 * both names); unknown keys are ignored. Normalised to snake_case by normalizeChatBody().
 */
export const chatBody = z
  .object({
    text: z.string().max(1_000_000).nullish(),
    stream: z.boolean().default(false),
    llm_model: z.string().max(200).nullish(),
    propagate_headers: z.boolean().default(false),
    conversation_id: z.string().max(100).nullish(),
    history: z.union([z.array(historyItem.nullable()), z.string()]).default([]),
    system_prompt: z.string().max(200_000).nullish(),
    file_names: z.array(z.string()).max(20).default([]),
    output_schema: z.record(z.string(), z.unknown()).nullish(),
    background_task: z.boolean().default(false),
    metadata: z.record(z.string(), z.unknown()).nullish(),
    save_history: z.boolean().default(true),
    top_k: z.number().int().nullish(),
    content_raw: z.string().nullish(),
    /** An earlier turn's index: this call regenerates that turn (a new variant; conversations/service.ts). */
    history_index: z.number().int().min(0).nullish(),
  })
  .passthrough()
  .meta({ id: 'AssistantChat' });
export type ChatBody = z.output<typeof chatBody>;

const CAMEL_TO_SNAKE = new Map<string, string>(
  Object.entries({
    llmModel: 'llm_model',
    propagateHeaders: 'propagate_headers',
    conversationId: 'conversation_id',
    systemPrompt: 'system_prompt',
    fileNames: 'file_names',
    outputSchema: 'output_schema',
    backgroundTask: 'background_task',
    saveHistory: 'save_history',
    topK: 'top_k',
    contentRaw: 'content_raw',
    historyIndex: 'history_index',
  }),
);

/**
 * Rewrites camelCase keys to snake_case before validation (snake wins when both are sent). The
 * body is copied only when something changes: this runs on every assistant call.
 */
export function normalizeChatKeys(body: unknown): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const src = body as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(src)) {
    const snake = CAMEL_TO_SNAKE.get(key);
    if (snake === undefined) continue;
    out ??= { ...src };
    if (!(snake in out)) out[snake] = out[key];
    delete out[key];
  }
  // Legacy single file_name → file_names.
  const b = out ?? src;
  if (typeof b.file_name === 'string' && !b.file_names) return { ...b, file_names: [b.file_name] };
  return b;
}

export const assistantIdParams = z.object({ assistant_id: z.string().min(1).max(100) });
