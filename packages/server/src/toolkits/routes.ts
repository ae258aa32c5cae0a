/** The tools API (reference routers/tool.py): the tool names, a tool's schema, direct invocation. */
import { z } from 'zod';
import { ApiError } from '../api/errors.js';
import { defineRoute, type Route } from '../api/route.js';
import type { ToolkitService } from './service.js';

const nameParams = z.object({ tool_name: z.string().min(1).max(200) });
const schemaField = z.object({ type: z.string(), required: z.boolean() });
const invokeBody = z
  .object({
    project: z.string().min(1).max(200),
    llm_model: z.string().max(200).nullish(),
    tool_args: z.record(z.string(), z.unknown()).default({}),
    tool_attributes: z.record(z.string(), z.unknown()).default({}),
    tool_creds: z.record(z.string(), z.unknown()).nullish(),
    datasource_id: z.string().max(200).nullish(),
    params: z
      .object({
        retry_count: z.number().int().min(0).max(10).nullish(),
        output_limit: z.number().int().min(1).nullish(),
        output_format: z.enum(['txt', 'json']).nullish(),
      })
      .nullish(),
    request_id: z.string().max(200).nullish(),
  })
  .meta({ id: 'ToolInvokeRequest' });

export function toolRoutes(svc: ToolkitService): Route[] {
  const tags = ['Tool'];
  return [
    defineRoute({
      method: 'GET',
      path: '/tools',
      tags,
      summary: 'Names of every built-in tool',
      responses: { 200: z.array(z.string()) },
      handler: () => svc.toolNames(),
    }),
    defineRoute({
      method: 'GET',
      path: '/tools/:tool_name/schema',
      tags,
      summary: "A tool's credential fields and arguments (type and whether required)",
      params: nameParams,
      query: z.object({ setting_id: z.string().max(200).optional() }),
      responses: {
        200: z
          .object({ tool_name: z.string(), creds_schema: z.record(z.string(), schemaField), args_schema: z.record(z.string(), schemaField) })
          .meta({ id: 'ToolSchemaResponse' }),
      },
      errors: [404],
      handler: ({ params }) => {
        const s = svc.schema(params.tool_name);
        if (!s) throw new ApiError(404, `Tool '${params.tool_name}' not found`);
        return s;
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/tools/:tool_name/invoke',
      tags,
      summary: 'Run a tool directly: 200 with `output`, or with `error` when it failed; blocked tools → 403',
      params: nameParams,
      body: invokeBody,
      responses: {
        200: z
          .object({ output: z.string().nullable(), error: z.string().nullable(), metadata: z.record(z.string(), z.unknown()).nullable() })
          .meta({ id: 'ToolInvokeResponse' }),
      },
      errors: [403],
      async handler({ params, body, user, signal }) {
        if (svc.isBlocked(params.tool_name)) throw new ApiError(403, `Direct invocation of '${params.tool_name}' via this endpoint is disabled.`);
        const r = await svc.invoke(params.tool_name, body, user, signal);
        return { output: r.output ?? null, error: r.error ?? null, metadata: null };
      },
    }),
  ];
}
