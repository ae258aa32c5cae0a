/** `/assistants/{id}/versions...` (reference tag "Assistant Versioning"): list, get, compare, rollback. */
import { z } from 'zod';
import { defineRoute, type Route } from '../api/route.js';
import { intQuery, messageSchema } from '../api/schemas.js';
import type { AssistantService } from './service.js';

const versionSchema = z
  .object({
    id: z.string(),
    date: z.string(),
    update_date: z.string(),
    assistant_id: z.string(),
    version_number: z.number().int(),
    created_date: z.string(),
    created_by: z.object({ id: z.string(), username: z.string(), name: z.string() }),
    description: z.string(),
    system_prompt: z.string(),
    llm_model_type: z.string().nullable(),
    enable_image_generation: z.boolean(),
    image_generation_model: z.string().nullable(),
    temperature: z.number().nullable(),
    top_p: z.number().nullable(),
    tools_tokens_size_limit: z.number().nullable(),
    context: z.array(z.unknown()),
    toolkits: z.array(z.unknown()),
    mcp_servers: z.array(z.unknown()),
    assistant_ids: z.array(z.string()),
    conversation_starters: z.array(z.string()),
    bedrock: z.unknown(),
    bedrock_agentcore_runtime: z.unknown(),
    agent_card: z.unknown(),
    custom_metadata: z.record(z.string(), z.unknown()).nullable(),
    change_notes: z.string().nullable(),
  })
  .meta({ id: 'AssistantVersion' });

const idParams = z.object({ assistant_id: z.string().min(1).max(100) });
const versionParams = idParams.extend({ version_number: intQuery() });
const compareParams = idParams.extend({ v1: intQuery(), v2: intQuery() });
const pageQuery = z.object({ page: intQuery({ min: 0 }).default(0), per_page: intQuery({ min: 1, max: 1000 }).default(20) });

export function versionRoutes(assistants: AssistantService): Route[] {
  const tags = ['assistants'];
  return [
    defineRoute({
      method: 'GET',
      path: '/assistants/:assistant_id/versions',
      tags,
      summary: "An assistant's versions, newest first",
      params: idParams,
      query: pageQuery,
      responses: {
        200: z.object({ versions: z.array(versionSchema), total_versions: z.number().int(), assistant_name: z.string(), assistant_id: z.string() }),
      },
      errors: [403, 404],
      handler: ({ params, query, user }) => assistants.listVersions(params.assistant_id, user, query.page, query.per_page),
    }),
    defineRoute({
      method: 'GET',
      path: '/assistants/:assistant_id/versions/:version_number',
      tags,
      summary: 'One version of an assistant',
      params: versionParams,
      responses: { 200: versionSchema },
      errors: [403, 404],
      handler: ({ params, user }) => assistants.getVersion(params.assistant_id, params.version_number, user),
    }),
    defineRoute({
      method: 'GET',
      path: '/assistants/:assistant_id/versions/:v1/compare/:v2',
      tags,
      summary: 'The differences between two versions (DeepDiff shape) and a summary',
      params: compareParams,
      responses: {
        200: z.object({
          assistant_id: z.string(),
          version1: versionSchema,
          version2: versionSchema,
          differences: z.record(z.string(), z.record(z.string(), z.unknown())),
          change_summary: z.string(),
        }),
      },
      errors: [403, 404],
      handler: ({ params, user }) => assistants.compareVersions(params.assistant_id, params.v1, params.v2, user),
    }),
    defineRoute({
      method: 'POST',
      path: '/assistants/:assistant_id/versions/:version_number/rollback',
      tags,
      summary: 'Make a new version from an old one and apply it',
      params: versionParams,
      body: z.object({ change_notes: z.string().nullish() }).passthrough().nullish(),
      responses: { 200: messageSchema },
      errors: [400, 403, 404],
      handler: async ({ params, user }) => ({ message: await assistants.rollback(params.assistant_id, params.version_number, user) }),
    }),
  ];
}
