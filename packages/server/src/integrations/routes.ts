/**
 * Routes of the integrations domain: `/v1/settings/user...`, `/v1/settings/project...`,
 * `/v1/settings/test/`, `/v1/settings/transfer` (routers/user_settings.py, project_settings.py,
 * settings.py of the reference). Answers never hold a secret value (see kinds.ts).
 */
import { ApiError } from '../api/errors.js';
import { parseFilters } from '../api/pagination.js';
import { defineRoute, type Route } from '../api/route.js';
import { messageSchema } from '../api/schemas.js';
import {
  availableQuery,
  creatorsSchema,
  settingBody,
  settingIdParams,
  settingListQuery,
  settingPageSchema,
  settingSchema,
  testBody,
  testResultSchema,
  transferBody,
  transferSchema,
} from './schemas.js';
import type { IntegrationService, SettingType } from './service.js';
import { runTest, type KindTester } from './tester.js';
import { z } from 'zod';

const FILTERS_DETAILS = 'filters must be a JSON object, e.g. {"credential_type": "Jira"}';

export function integrationRoutes(svc: IntegrationService, testers: Map<string, KindTester>): Route[] {
  const scoped = (type: SettingType, tag: string): Route[] => [
    defineRoute({
      method: 'GET',
      path: `/settings/${type}`,
      tags: [tag],
      summary: type === 'user' ? "The caller's own integrations, newest first" : 'Integrations of the projects the caller administers (all for admins)',
      query: settingListQuery,
      responses: { 200: settingPageSchema },
      errors: [400],
      handler: ({ user, query }) => svc.list(user, type, query.page, query.per_page, parseFilters(query.filters, FILTERS_DETAILS)),
    }),
    defineRoute({
      method: 'POST',
      path: `/settings/${type}`,
      tags: [tag],
      summary: type === 'user' ? 'Save an integration of the caller' : 'Save an integration of a project (admins and project administrators)',
      description:
        'Secret values are encrypted at rest and read back as "**********". Scheduler and Webhook integrations are checked first: target, cron, time zone, webhook id.',
      body: settingBody,
      responses: { 200: messageSchema },
      errors: [400, 403, 404, 422],
      async handler({ user, body }) {
        await svc.create(user, type, body);
        return { message: 'Specified credentials saved' };
      },
    }),
    defineRoute({
      method: 'PUT',
      path: `/settings/${type}/:setting_id`,
      tags: [tag],
      summary: 'Update an integration; a value sent as "**********" keeps the stored one, keys not sent are removed',
      params: settingIdParams,
      body: settingBody,
      responses: { 200: messageSchema },
      errors: [400, 403, 404, 422],
      async handler({ user, params, body }) {
        await svc.update(user, type, params.setting_id, body);
        return { message: 'Specified credentials updated' };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: `/settings/${type}/:setting_id`,
      tags: [tag],
      summary: 'Delete an integration',
      params: settingIdParams,
      responses: { 200: messageSchema },
      errors: [403, 404],
      async handler({ user, params }) {
        await svc.remove(user, type, params.setting_id);
        return { message: 'Specified credential removed' };
      },
    }),
  ];
  return [
    defineRoute({
      method: 'GET',
      path: '/settings/user/available',
      tags: ['User Settings'],
      summary: "Integrations the caller may pick: their own and their projects' (every project's with scope=marketplace, or for admins)",
      query: availableQuery,
      responses: { 200: z.array(settingSchema) },
      handler: ({ user, query }) => svc.available(user, query.scope),
    }),
    defineRoute({
      method: 'GET',
      path: '/settings/project/users',
      tags: ['Project Settings'],
      summary: 'Users who created the project integrations the caller can list',
      responses: { 200: creatorsSchema },
      handler: ({ user }) => svc.creators(user),
    }),
    ...scoped('user', 'User Settings'),
    ...scoped('project', 'Project Settings'),
    defineRoute({
      method: 'POST',
      path: '/settings/test/',
      tags: ['User Settings'],
      summary: 'Test whether credentials work (given values, or a stored integration by setting_id)',
      body: testBody,
      responses: { 200: testResultSchema },
      errors: [400, 404, 422],
      async handler({ user, body }) {
        const values = await svc.valuesForTest(user, body.setting_id, body.credential_values ?? []);
        const [success, message] = await runTest(testers, body.credential_type, values);
        if (!success) throw new ApiError(400, 'Integration test failed', message, '');
        return { success, message };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/settings/transfer',
      tags: ['Settings'],
      summary: 'Move or copy the integrations of one project to another (admins; all or nothing)',
      description: 'copy skips Webhook and Scheduler integrations (a copy would fire twice); move keeps ids, owners and creators.',
      access: 'admin',
      body: transferBody,
      responses: { 200: transferSchema },
      errors: [404, 409, 422],
      handler: ({ user, body }) => svc.transfer(user, body),
    }),
  ];
}
