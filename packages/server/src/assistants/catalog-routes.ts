/**
 * Catalogs and templates: prebuilt assistants, the toolkit catalog, built-in subagents, the
 * datasources usable as context, and the export of an assistant's definition.
 */
import { z } from 'zod';
import { ApiError } from '../api/errors.js';
import { defineRoute, RawBody, type Route } from '../api/route.js';
import { abilities } from '../auth/access.js';
import { access } from './access.js';
import { BUILTIN_SUBAGENTS, type ContextCatalog, type ToolkitCatalog } from './catalogs.js';
import { prebuiltResponse, templatesFor } from './prebuilt.js';
import { prebuiltAssistantSchema } from './responses.js';
import { CONTEXT_TYPES } from './schemas.js';
import { promptVariablesOf, type AssistantService } from './service.js';
import { subIdsOf } from './sub-assistants.js';
import type { AssistantRecord } from './repo.js';

const toolkitSchema = z
  .object({
    toolkit: z.string(),
    tools: z.array(
      z.object({
        name: z.string(),
        label: z.string().optional(),
        settings_config: z.boolean(),
        description: z.string().optional(),
        user_description: z.string().optional(),
      }),
    ),
    label: z.string(),
    settings_config: z.boolean(),
    is_external: z.boolean(),
  })
  .meta({ id: 'ToolkitCatalogItem' });

const exportBody = z
  .object({
    env_vars: z
      .object({
        azure_openai_url: z.string().max(2000).nullish(),
        azure_openai_api_key: z.string().max(2000).nullish(),
        openai_api_type: z.string().max(100).nullish(),
        openai_api_version: z.string().max(100).nullish(),
        models_env: z.string().max(10_000).nullish(),
      })
      .passthrough()
      .nullish(),
  })
  .meta({ id: 'ExportAssistant' });

const exportBundleSchema = z
  .object({
    format: z.literal('codemie-assistant-export'),
    format_version: z.number().int(),
    exported_at: z.string(),
    assistant_id: z.string(),
    assistant: z.record(z.string(), z.unknown()),
    sub_assistants: z.array(z.record(z.string(), z.unknown())),
    models: z.array(z.record(z.string(), z.unknown())),
  })
  .meta({ id: 'AssistantExport' });

/** The fields that re-create an assistant with POST /v1/assistants (sensitive prompt-variable values left empty). */
function definition(a: AssistantRecord) {
  const d = a.data;
  return {
    name: a.name,
    description: a.description,
    system_prompt: a.system_prompt,
    llm_model_type: a.llm_model_type,
    project: a.project,
    slug: a.slug,
    shared: a.shared,
    temperature: a.temperature,
    top_p: a.top_p,
    icon_url: (d.icon_url as string) ?? null,
    conversation_starters: (d.conversation_starters as string[]) ?? [],
    toolkits: (d.toolkits as unknown[]) ?? [],
    mcp_servers: (d.mcp_servers as unknown[]) ?? [],
    context: (d.context as unknown[]) ?? [],
    categories: a.categories,
    enabled_builtin_subagents: (d.enabled_builtin_subagents as string[]) ?? [],
    prompt_variables: promptVariablesOf(a).map((v) => ({ ...v, default_value: v.is_sensitive ? '' : v.default_value })),
    tool_permissions: (d.tool_permissions as unknown) ?? null,
    custom_metadata: (d.custom_metadata as unknown) ?? null,
    tools_tokens_size_limit: (d.tools_tokens_size_limit as number) ?? null,
  };
}

export function catalogRoutes(assistants: AssistantService, catalogs: { toolkits: ToolkitCatalog; context: ContextCatalog }): Route[] {
  const tags = ['assistants'];
  return [
    defineRoute({
      method: 'GET',
      path: '/assistants/prebuilt',
      tags,
      summary: 'Prebuilt assistant templates (administrators see a few more)',
      responses: { 200: z.array(prebuiltAssistantSchema) },
      handler: ({ user }) => templatesFor(user).map((t) => prebuiltResponse(t, user)),
    }),
    defineRoute({
      method: 'GET',
      path: '/assistants/prebuilt/:slug',
      tags,
      summary: 'A prebuilt template by slug',
      params: z.object({ slug: z.string().min(1).max(300) }),
      responses: { 200: prebuiltAssistantSchema },
      errors: [404],
      handler: ({ params, user }) => {
        const t = templatesFor(user).find((x) => x.slug === params.slug);
        if (!t) {
          throw new ApiError(404, 'Prebuilt assistant not found', `No prebuilt assistant found with the slug '${params.slug}'.`, 'Please check the assistant slug and ensure it is correct. ');
        }
        return prebuiltResponse(t, user);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/assistants/tools',
      tags,
      summary: 'The toolkits assistants can use',
      responses: { 200: z.array(toolkitSchema) },
      handler: () => catalogs.toolkits(),
    }),
    defineRoute({
      method: 'GET',
      path: '/assistants/builtin_subagents',
      tags,
      summary: 'Built-in subagents an assistant can enable (enabled_builtin_subagents)',
      responses: { 200: z.array(z.object({ id: z.string(), display_name: z.string() })) },
      handler: () => BUILTIN_SUBAGENTS.map((b) => ({ id: b.id, display_name: b.display_name })),
    }),
    defineRoute({
      method: 'GET',
      path: '/assistants/context',
      tags,
      summary: "The project's datasources the caller can give an assistant as context",
      query: z.object({ project_name: z.string().min(1).max(200) }),
      responses: { 200: z.array(z.object({ id: z.string(), name: z.string(), context_type: z.enum(CONTEXT_TYPES) })) },
      handler: ({ query, user }) => catalogs.context(query.project_name, user),
    }),
    defineRoute({
      method: 'POST',
      path: '/assistants/id/:assistant_id/export',
      tags,
      summary: "Download an assistant's definition (with its sub-assistants) as a JSON bundle",
      description:
        'The bundle holds `assistant` and `sub_assistants` as create bodies (POST /v1/assistants) and, when `env_vars` name an Azure OpenAI endpoint and key, a `models` list for CODEMIE_LLM_MODELS.',
      params: z.object({ assistant_id: z.string().min(1).max(100) }),
      body: exportBody.nullish(),
      responses: { 200: { contentType: 'application/json', description: 'The export bundle (attachment)', schema: exportBundleSchema } },
      errors: [403, 404],
      async handler({ params, body, user }) {
        const a = await assistants.getReadable(params.assistant_id, user);
        const subs = (await assistants.repo.getMany(subIdsOf(a))).filter((s) => a.is_global || abilities(user, access(s)).includes('read'));
        const env = body?.env_vars ?? null;
        const models =
          env?.azure_openai_url && env.azure_openai_api_key
            ? [...new Set([a, ...subs].map((x) => x.llm_model_type).filter((m): m is string => !!m))].map((m) => ({
                base_name: m,
                provider: 'azure',
                deployment_name: m,
                base_url: env.azure_openai_url,
                api_key: env.azure_openai_api_key,
                ...(env.openai_api_version ? { api_version: env.openai_api_version } : {}),
              }))
            : [];
        const bundle = {
          format: 'codemie-assistant-export',
          format_version: 1,
          exported_at: new Date().toISOString(),
          assistant_id: a.id,
          assistant: { ...definition(a), assistant_ids: [] as string[] },
          sub_assistants: subs.map((s) => ({ id: s.id, ...definition(s) })),
          models,
        };
        const file = `${(a.slug ?? a.id).replace(/[^A-Za-z0-9._-]/g, '_')}.codemie-assistant.json`;
        return new RawBody('application/json', JSON.stringify(bundle, null, 2), { 'content-disposition': `attachment; filename="${file}"` });
      },
    }),
  ];
}
