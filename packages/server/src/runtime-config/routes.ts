/**
 * Routes of the runtime configuration: the reference's routers/customer_config.py (+ its later
 * declarations) and routers/dynamic_config.py. Who may call each is in its descriptor.
 */
import { z } from 'zod';
import type { AuthUser } from '../api/auth.js';
import { defineRoute, type Route } from '../api/route.js';
import type { AuditLog } from '../audit/audit.js';
import type { CustomerConfigService } from './customer-config.js';
import { VALUE_TYPES, type DynamicConfigService } from './dynamic-config.js';

const componentSchema = z
  .object({ id: z.string(), settings: z.object({ enabled: z.boolean() }).catchall(z.unknown()) })
  .meta({ id: 'Component', description: 'A customer-config component; settings beyond `enabled` and `availableForExternal` vary by component.' });

const applicationSchema = z
  .object({
    name: z.string().nullable(),
    description: z.string(),
    created_by: z.string().nullable(),
    icon_url: z.string().nullable(),
    slug: z.string(),
    entry: z.string().nullable(),
    type: z.string().nullable(),
    arguments: z.unknown().nullable(),
  })
  .meta({ id: 'Application' });

const fieldSchema = z.object({
  name: z.string(),
  type: z.enum(['switch', 'input', 'textarea']),
  label: z.string(),
  description: z.string().nullable(),
  required: z.boolean(),
  max_length: z.number().int().nullable(),
  pattern: z.string().nullable(),
  pattern_message: z.string().nullable(),
  markup: z.enum(['plain', 'markdown']),
});

const declarationSchema = z
  .object({
    component_id: z.string(),
    label: z.string(),
    description: z.string().nullable(),
    overridden: z.boolean(),
    value: z.record(z.string(), z.unknown()),
    fields: z.array(fieldSchema),
  })
  .meta({ id: 'SettingDeclaration' });

const componentParams = z.object({ component_id: z.string().min(1).max(200) });
const settingsBody = z.object({
  settings: z.record(z.string(), z.unknown(), { error: (i) => (i.input === undefined ? 'Field required' : 'Input should be a valid dictionary') }),
});
const savedSchema = z.object({ component_id: z.string(), settings: z.record(z.string(), z.unknown()) }).meta({ id: 'SettingSaved' });

const entrySchema = z
  .object({
    id: z.string(),
    key: z.string(),
    value: z.string(),
    value_type: z.enum(VALUE_TYPES),
    description: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    updated_by: z.string(),
  })
  .meta({ id: 'DynamicConfig' });

const str = (max: number) => z.string({ error: (i) => (i.input === undefined ? 'Field required' : 'Input should be a valid string') }).max(max);
const valueType = z.enum(VALUE_TYPES, { error: (i) => (i.input === undefined ? 'Field required' : "Input should be 'string', 'int', 'float' or 'bool'") });
const createBody = z.object({ key: str(255), value: str(10_000), value_type: valueType, description: str(500).nullish() });
const updateBody = z.object({ value: str(10_000), value_type: valueType.nullish(), description: str(500).nullish() });
const keyParams = z.object({ key: z.string().min(1).max(255) });

export function runtimeConfigRoutes(deps: { dynamic: DynamicConfigService; customer: CustomerConfigService; audit?: AuditLog }): Route[] {
  const { dynamic, customer, audit } = deps;
  const event = (e: string, user: AuthUser, details: Record<string, unknown>) =>
    audit?.record({ event: e, outcome: 'success', userId: user.id, username: user.username, details });
  const cfgTags = ['customer_config'];
  const dynTags = ['dynamic-config'];
  return [
    defineRoute({
      method: 'GET',
      path: '/config',
      access: 'public',
      tags: cfgTags,
      summary: "The platform's enabled components (features, links, the identity provider kind), stored overrides applied",
      description: 'Who: anyone (no token needed).',
      responses: { 200: z.array(componentSchema) },
      handler: () => customer.enabled(),
    }),
    defineRoute({
      method: 'GET',
      path: '/applications',
      access: 'public',
      tags: cfgTags,
      summary: 'UI plug-in applications: the enabled `applications:<slug>` components',
      description: 'Who: anyone (no token needed).',
      responses: { 200: z.array(applicationSchema) },
      async handler() {
        const comps = (await customer.enabled()).filter((c) => c.id.startsWith('applications:'));
        const s = (v: unknown) => (typeof v === 'string' ? v : null);
        return comps.map((c) => ({
          name: s(c.settings.name),
          description: s(c.settings.description) ?? '',
          created_by: s(c.settings.created_by),
          icon_url: s(c.settings.icon_url),
          slug: c.id.slice('applications:'.length),
          entry: s(c.settings.url),
          type: s(c.settings.type),
          arguments: c.settings.arguments ?? null,
        }));
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/config/declarations',
      access: 'admin',
      tags: cfgTags,
      summary: 'Components editable at run time, with their fields, current values and whether they are overridden',
      description: 'Who: platform admins.',
      responses: { 200: z.array(declarationSchema) },
      handler: () => customer.declarations(),
    }),
    defineRoute({
      method: 'GET',
      path: '/config/declarations/:component_id',
      access: 'admin',
      tags: cfgTags,
      summary: 'One editable component',
      description: 'Who: platform admins.',
      params: componentParams,
      responses: { 200: declarationSchema },
      errors: [404],
      async handler({ params }) {
        customer.declaration(params.component_id);
        return (await customer.declarations()).find((d) => d.component_id === params.component_id)!;
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/config/declarations/:component_id',
      access: 'admin',
      tags: cfgTags,
      summary: 'Override an editable component (every declared field, checked and sanitised); /v1/config shows it at once',
      description: 'Who: platform admins.',
      params: componentParams,
      body: settingsBody,
      responses: { 200: savedSchema },
      errors: [400, 404],
      async handler({ params, body, user }) {
        const { settings, before } = await customer.save(params.component_id, body.settings, user.id);
        event('customer_config.setting_updated', user, { component_id: params.component_id, old: before, new: settings });
        return { component_id: params.component_id, settings };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/config/declarations/:component_id',
      access: 'admin',
      tags: cfgTags,
      summary: "Drop a component's override (back to the YAML value); nothing to drop is fine",
      description: 'Who: platform admins.',
      params: componentParams,
      responses: { 204: z.null().meta({ description: 'No content' }) },
      errors: [404],
      async handler({ params, user, respond }) {
        const removed = await customer.reset(params.component_id);
        if (removed !== null) event('customer_config.setting_reset', user, { component_id: params.component_id, old: removed });
        return respond(204, null);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/dynamic-config',
      access: 'admin',
      tags: dynTags,
      summary: 'Every dynamic setting, by key',
      description: 'Who: platform admins.',
      responses: { 200: z.array(entrySchema) },
      handler: () => dynamic.list(),
    }),
    defineRoute({
      method: 'GET',
      path: '/dynamic-config/:key',
      access: 'admin',
      tags: dynTags,
      summary: 'One dynamic setting',
      description: 'Who: platform admins.',
      params: keyParams,
      responses: { 200: entrySchema },
      errors: [404],
      handler: ({ params }) => dynamic.get(params.key),
    }),
    defineRoute({
      method: 'POST',
      path: '/dynamic-config',
      access: 'admin',
      tags: dynTags,
      summary: 'Create a dynamic setting (key in UPPER_SNAKE_CASE; the value must parse as its type)',
      description: 'Who: platform admins.',
      body: createBody,
      responses: { 201: entrySchema },
      errors: [400, 409],
      async handler({ body, user }) {
        const e = await dynamic.create(body, user.id);
        event('dynamic_config.created', user, { key: e.key, value_type: e.value_type });
        return e;
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/dynamic-config/:key',
      access: 'admin',
      tags: dynTags,
      summary: 'Change a dynamic setting (an omitted value_type or description keeps the stored one)',
      description: 'Who: platform admins.',
      params: keyParams,
      body: updateBody,
      responses: { 200: entrySchema },
      errors: [400, 404],
      async handler({ params, body, user }) {
        const e = await dynamic.update(params.key, body, user.id);
        event('dynamic_config.updated', user, { key: e.key, value_type: e.value_type });
        return e;
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/dynamic-config/:key',
      access: 'admin',
      tags: dynTags,
      summary: 'Delete a dynamic setting (readers fall back to their defaults)',
      description: 'Who: platform admins.',
      params: keyParams,
      responses: { 204: z.null().meta({ description: 'No content' }) },
      errors: [404],
      async handler({ params, user, respond }) {
        await dynamic.remove(params.key);
        event('dynamic_config.deleted', user, { key: params.key });
        return respond(204, null);
      },
    }),
  ];
}
