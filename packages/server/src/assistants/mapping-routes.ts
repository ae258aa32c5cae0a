/**
 * Per-user mappings of an assistant (integration per tool, prompt-variable values), project
 * feature mappings (Teams bot, behind CODEMIE_FEATURE_TEAMS_BOT) and the system-prompt preview.
 */
import { z } from 'zod';
import type { AuthUser } from '../api/auth.js';
import { ApiError, badRequest, forbidden } from '../api/errors.js';
import { pageOf } from '../api/pagination.js';
import { defineRoute, type Route } from '../api/route.js';
import { intQuery, messageSchema, pageSchema } from '../api/schemas.js';
import { abilities, canAccessProject } from '../auth/access.js';
import { access } from './access.js';
import { ACL_HELP } from './errors.js';
import type { MappingService } from './mappings.js';
import { invalidPlaceholders, promptDate, renderPrompt, VARIABLE_NAME } from './prompt-template.js';
import { assistantResponse, promptVariablesOf, type AssistantService } from './service.js';
import { assistantSchema } from './responses.js';

const idParams = z.object({ assistant_id: z.string().min(1).max(100) });
const workflowQuery = z.object({ workflow_id: z.string().max(100).optional() });
const FEATURES = ['teams'] as const;

function forbiddenAction(action: string) {
  return forbidden(`You do not have the necessary permissions to ${action} this entity.`, 'Access denied', ACL_HELP);
}

export function mappingRoutes(assistants: AssistantService, mappings: MappingService, opts: { teamsBot: boolean }): Route[] {
  const tags = ['assistants'];
  const featureGate = () => {
    if (!opts.teamsBot) {
      throw new ApiError(
        403,
        'Feature not available',
        'Teams Bot Integration is not enabled for this customer.',
        "Contact your system administrator to enable the 'features:teamsBotIntegration' component.",
      );
    }
  };
  const requireProjectAdmin = (user: AuthUser, project: string) => {
    if (!user.isAdmin && !user.adminProjects.includes(project)) throw forbiddenAction('manage assistant feature mappings for this project');
  };
  return [
    defineRoute({
      method: 'GET',
      path: '/assistants/:assistant_id/users/mapping',
      tags,
      summary: "The caller's integration per tool of an assistant",
      params: idParams,
      query: workflowQuery,
      responses: {
        200: z.object({
          id: z.string(),
          date: z.null(),
          update_date: z.null(),
          assistant_id: z.string(),
          user_id: z.string(),
          tools_config: z.array(z.object({ name: z.string(), integration_id: z.string() })),
          created_at: z.string().nullable(),
          updated_at: z.string().nullable(),
          has_assistant_scope_selection: z.boolean(),
          workflow_id: z.string().nullable(),
        }),
      },
      errors: [403, 404],
      handler: async ({ params, query, user }) => mappings.getToolMappings(await assistants.getReadable(params.assistant_id, user), user, query.workflow_id ?? null),
    }),
    defineRoute({
      method: 'POST',
      path: '/assistants/:assistant_id/users/mapping',
      tags,
      summary: 'Set (or with an empty integration_id remove) the caller\'s integration per tool',
      params: idParams,
      body: z.object({
        tools_config: z.array(z.object({ name: z.string().min(1).max(300), integration_id: z.string().max(100).nullable() }).passthrough()).max(200),
        workflow_id: z.string().nullish(),
        apply_to_assistant_scope: z.boolean().nullish(),
      }),
      responses: { 200: messageSchema },
      errors: [403, 404],
      async handler({ params, body, user }) {
        await mappings.saveToolMappings(await assistants.getReadable(params.assistant_id, user), user, body.tools_config);
        return { message: 'Mappings created or updated successfully' };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/assistants/:assistant_id/users/mapping',
      tags,
      summary: "Remove the caller's integration mappings of an assistant",
      params: idParams,
      query: workflowQuery,
      responses: { 200: messageSchema },
      errors: [403, 404],
      async handler({ params, user }) {
        await mappings.deleteToolMappings(await assistants.getReadable(params.assistant_id, user), user);
        return { message: 'Mappings deleted successfully' };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/assistants/:assistant_id/users/prompt-variables',
      tags,
      summary: "The caller's own values of the assistant's prompt variables (sensitive ones masked)",
      params: idParams,
      responses: {
        200: z.object({
          id: z.string(),
          date: z.string().nullable(),
          update_date: z.string().nullable(),
          assistant_id: z.string(),
          user_id: z.string(),
          variables_config: z.array(
            z.object({ id: z.null(), date: z.null(), update_date: z.null(), variable_key: z.string(), variable_value: z.string(), is_sensitive: z.boolean() }),
          ),
          created_at: z.string().nullable(),
          updated_at: z.string().nullable(),
        }),
      },
      errors: [403, 404],
      handler: async ({ params, user }) => mappings.getPromptVariables(await assistants.getReadable(params.assistant_id, user), user),
    }),
    defineRoute({
      method: 'POST',
      path: '/assistants/:assistant_id/users/prompt-variables',
      tags,
      summary: "Replace the caller's values of the assistant's prompt variables",
      params: idParams,
      body: z.object({
        variables_config: z
          .array(z.object({ variable_key: z.string().min(1).max(100), variable_value: z.string().max(5000), is_sensitive: z.boolean().default(false) }))
          .max(100),
      }),
      responses: { 200: messageSchema },
      errors: [403, 404],
      async handler({ params, body, user }) {
        await mappings.savePromptVariables(await assistants.getReadable(params.assistant_id, user), user, body.variables_config);
        return { message: 'Prompt variable mappings created or updated successfully' };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/assistants/system-prompt/validate',
      tags,
      summary: 'Render a system prompt with prompt variables (a preview)',
      body: z.object({
        system_prompt_template: z.string().max(200_000),
        prompt_vars: z.record(z.string(), z.string()).default({}),
        assistant_id: z.string().max(100).nullish(),
      }),
      responses: { 200: z.object({ rendered_prompt: z.string(), is_valid: z.boolean(), message: z.string() }) },
      errors: [400, 403, 404],
      async handler({ body, user }) {
        const bad = [...Object.keys(body.prompt_vars).filter((k) => !VARIABLE_NAME.test(k)), ...invalidPlaceholders(body.system_prompt_template)];
        if (bad.length) {
          throw badRequest(
            'System prompt validation failed',
            `Security violation detected: invalid variable name(s): ${bad.map((b) => `'${b}'`).join(', ')}`,
            "Please review your template for invalid variable names or security issues. Variable names must be alphanumeric with underscores only (e.g., 'project_name', 'user_123'). Spaces and special characters are not allowed in variable names.",
          );
        }
        const vars: Record<string, string> = { current_user: body.prompt_vars.current_user ?? '', date: promptDate() };
        if (body.assistant_id) {
          const a = await assistants.getReadable(body.assistant_id, user);
          for (const v of promptVariablesOf(a)) vars[v.key] = await assistants.secrets.open(v.default_value);
        }
        Object.assign(vars, body.prompt_vars);
        if (body.assistant_id) Object.assign(vars, await mappings.promptVariableValues(body.assistant_id, user.id));
        return { rendered_prompt: renderPrompt(body.system_prompt_template, vars), is_valid: true, message: 'System prompt rendered successfully' };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/assistants/projects/mapping',
      tags,
      summary: 'Assistants enabled for a project feature (Teams bot)',
      query: z.object({
        feature: z.enum(FEATURES),
        project: z.string().min(1).max(200),
        page: intQuery({ min: 0 }).default(0),
        per_page: intQuery({ min: 1, max: 10_000 }).default(12),
      }),
      responses: { 200: pageSchema(assistantSchema) },
      errors: [403],
      async handler({ query, user }) {
        featureGate();
        if (!canAccessProject(user, query.project)) throw forbiddenAction('list assistant mappings for this project');
        const ids = await mappings.listProjectMapping(query.project, query.feature);
        const visible = (await assistants.repo.getMany(ids))
          .filter((a) => abilities(user, access(a)).includes('read'))
          .sort((a, b) => b.update_date.localeCompare(a.update_date) || a.id.localeCompare(b.id));
        const page = visible.slice(query.page * query.per_page, (query.page + 1) * query.per_page).map((a) => assistantResponse(a, user));
        return pageOf(page, visible.length, query.page, query.per_page);
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/assistants/:assistant_id/projects/mapping',
      tags,
      summary: 'Enable an assistant for a project feature (project administrators)',
      params: idParams,
      body: z.object({ project_name: z.string().min(1).max(200), feature: z.enum(FEATURES) }),
      responses: { 200: messageSchema },
      errors: [403, 404],
      async handler({ params, body, user }) {
        featureGate();
        const a = await assistants.getOr404(params.assistant_id);
        requireProjectAdmin(user, body.project_name);
        await mappings.enableForProject(a, body.project_name, body.feature, user);
        return { message: 'Assistant enabled for project feature successfully' };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/assistants/:assistant_id/projects/mapping',
      tags,
      summary: 'Disable an assistant for a project feature (project administrators)',
      params: idParams,
      query: z.object({ project: z.string().min(1).max(200), feature: z.enum(FEATURES) }),
      responses: { 200: messageSchema },
      errors: [403, 404],
      async handler({ params, query, user }) {
        featureGate();
        const a = await assistants.getOr404(params.assistant_id);
        requireProjectAdmin(user, query.project);
        await mappings.disableForProject(a, query.project, query.feature);
        return { message: 'Assistant disabled for project feature successfully' };
      },
    }),
  ];
}
