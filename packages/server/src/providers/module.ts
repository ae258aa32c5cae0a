/**
 * Providers (reference routers/provider.py, service/provider/provider_service.py): external
 * services registered by administrators with the toolkits they offer. Anyone signed in lists and
 * reads them; administrators create, update and delete. A toolkit that defines datasource tools
 * must have a data-retrieval tool and the create/modify/remove lifecycle actions (the
 * reference's validators); GET /providers/datasource_schemas derives the datasource forms.
 * Calling the providers' tools is not implemented here (docs/toolkits.md#providers).
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { ApiError } from '../api/errors.js';
import { defineRoute, Reply, type Route } from '../api/route.js';
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import type { Database } from '../store/schema.js';
import { fromJson, toJson } from '../store/json.js';
import { createProviderBody, datasourceSchemasSchema, providerSchema, updateProviderBody, type ProviderToolkit } from './schemas.js';
import './tables.js';

interface ProviderRecord {
  id: string;
  date: string;
  update_date: string;
  name: string;
  service_location_url: string;
  configuration: { auth_type: string };
  provided_toolkits: ProviderToolkit[];
}

const notFound = (id: string) =>
  new ApiError(
    404,
    'Not found',
    `The provider with ID [${id}] could not be found in the system.`,
    'Please verify the provider ID and try again. If you believe this is an error, contact support.',
  );

const invalid = (msg: string) => new ApiError(422, `provided_tools: ${msg}`, [{ loc: 'provided_tools', msg, type: 'value_error' }]);

const isDatasource = (tk: ProviderToolkit) =>
  tk.provided_tools.some((t) => t.tool_metadata.tool_purpose === 'life_cycle_management' || t.tool_metadata.tool_purpose === 'data_retrieval');

/** The reference's toolkit validators: a datasource toolkit retrieves data and has the lifecycle actions. */
function checkToolkits(list: Array<Omit<ProviderToolkit, 'toolkit_id'> & { toolkit_id?: string }>): ProviderToolkit[] {
  return list.map((tk) => {
    const t = { ...tk, toolkit_id: tk.toolkit_id || randomUUID() } as ProviderToolkit;
    if (!isDatasource(t)) return t;
    if (!t.provided_tools.some((x) => x.tool_metadata.tool_purpose === 'data_retrieval')) throw invalid('No data retrieval tools found in the toolkit');
    const actions = t.provided_tools.filter((x) => x.tool_metadata.tool_purpose === 'life_cycle_management').map((x) => x.tool_metadata.tool_action_type);
    const missing = (['create', 'remove', 'modify'] as const).filter((a) => !actions.includes(a));
    if (missing.length) throw invalid(`The toolkit does not have the required lifecycle actions, missing: ${missing.join(', ')}`);
    return t;
  });
}

class ProviderService {
  constructor(private readonly db: Kysely<Database>) {}

  private row(r: {
    id: string;
    date: string;
    update_date: string;
    name: string;
    service_location_url: string;
    configuration: string;
    provided_toolkits: string;
  }): ProviderRecord {
    return { ...r, configuration: fromJson(r.configuration, { auth_type: 'Bearer' }), provided_toolkits: fromJson(r.provided_toolkits, []) };
  }

  async list(): Promise<ProviderRecord[]> {
    return (await this.db.selectFrom('providers').selectAll().orderBy('update_date', 'desc').orderBy('id').execute()).map((r) => this.row(r));
  }

  async get(id: string): Promise<ProviderRecord> {
    const r = await this.db.selectFrom('providers').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFound(id);
    return this.row(r);
  }

  private async uniqueName(name: string | null | undefined, exceptId?: string): Promise<void> {
    if (!name) return;
    let q = this.db.selectFrom('providers').select('id').where('name', '=', name);
    if (exceptId) q = q.where('id', '!=', exceptId);
    if (await q.executeTakeFirst()) {
      throw new ApiError(409, 'Conflict', `A provider with the name [${name}] already exists.`, 'Please choose a different name and try again.');
    }
  }

  async create(body: z.output<typeof createProviderBody>): Promise<ProviderRecord> {
    const toolkits = checkToolkits(body.provided_toolkits);
    await this.uniqueName(body.name);
    const now = new Date().toISOString();
    const p: ProviderRecord = {
      id: randomUUID(),
      date: now,
      update_date: now,
      name: body.name,
      service_location_url: body.service_location_url,
      configuration: body.configuration,
      provided_toolkits: toolkits,
    };
    await this.db
      .insertInto('providers')
      .values({ ...p, configuration: toJson(p.configuration), provided_toolkits: toJson(p.provided_toolkits) })
      .execute();
    return p;
  }

  async update(id: string, body: z.output<typeof updateProviderBody>): Promise<ProviderRecord> {
    const p = await this.get(id);
    await this.uniqueName(body.name, id);
    // Only fields sent with a value overwrite (the reference skips empty ones).
    const next: ProviderRecord = {
      ...p,
      name: body.name || p.name,
      service_location_url: body.service_location_url || p.service_location_url,
      configuration: body.configuration ?? p.configuration,
      provided_toolkits: body.provided_toolkits?.length ? checkToolkits(body.provided_toolkits) : p.provided_toolkits,
      update_date: new Date().toISOString(),
    };
    await this.db
      .updateTable('providers')
      .set({
        name: next.name,
        service_location_url: next.service_location_url,
        configuration: toJson(next.configuration),
        provided_toolkits: toJson(next.provided_toolkits),
        update_date: next.update_date,
      })
      .where('id', '=', id)
      .execute();
    return next;
  }

  async delete(id: string): Promise<void> {
    await this.get(id);
    await this.db.deleteFrom('providers').where('id', '=', id).execute();
  }

  /** The datasource forms of every provider toolkit with a datasource definition (UUID parameters are filled by the platform). */
  async datasourceSchemas() {
    const param = (
      name: string,
      p: {
        description?: string | null;
        required: boolean;
        type: string;
        enum?: string[] | null;
        title?: string | null;
        example?: string | null;
        default_value?: string | null;
      },
    ) => ({
      name,
      description: p.description ?? '',
      required: p.required,
      parameter_type: p.type,
      enum: p.enum ?? null,
      multiselect_options: null,
      title: p.title ?? null,
      example: p.example ?? null,
      default_value: p.default_value ?? null,
    });
    const out = [];
    for (const p of await this.list()) {
      for (const tk of p.provided_toolkits.filter(isDatasource)) {
        const managed = tk.toolkit_metadata?.managed_fields ?? {};
        const base = Object.entries(tk.toolkit_config.parameters)
          .filter(([n, x]) => !(n in managed) && x.type !== 'UUID')
          .map(([n, x]) => param(n, x));
        const create = tk.provided_tools.find((t) => t.tool_metadata.tool_action_type === 'create');
        const createParams = create ? Object.entries(create.args_schema).map(([n, x]) => param(n, x)) : [];
        out.push({
          id: p.id,
          toolkit_id: tk.toolkit_id,
          provider_name: p.name,
          name: `${p.name} - ${tk.name}`,
          base_schema: { description: tk.toolkit_config.description ?? '', parameters: base },
          create_schema: { description: tk.toolkit_config.description ?? '', parameters: createParams },
        });
      }
    }
    return out;
  }
}

function providerRoutes(svc: ProviderService): Route[] {
  const tags = ['Provider'];
  const idParams = z.object({ provider_id: z.string().min(1).max(200) });
  return [
    defineRoute({
      method: 'GET',
      path: '/providers',
      tags,
      summary: 'Registered providers',
      responses: { 200: z.array(providerSchema) },
      handler: () => svc.list(),
    }),
    defineRoute({
      method: 'GET',
      path: '/providers/datasource_schemas',
      tags,
      summary: "The datasource forms of the providers' toolkits",
      responses: { 200: z.array(datasourceSchemasSchema) },
      handler: () => svc.datasourceSchemas(),
    }),
    defineRoute({
      method: 'GET',
      path: '/providers/:provider_id',
      tags,
      summary: 'A provider',
      params: idParams,
      responses: { 200: providerSchema },
      errors: [404],
      handler: ({ params }) => svc.get(params.provider_id),
    }),
    defineRoute({
      method: 'POST',
      path: '/providers',
      tags,
      summary: 'Register a provider (administrators)',
      access: 'admin',
      body: createProviderBody,
      responses: { 200: providerSchema },
      errors: [403, 409],
      handler: ({ body }) => svc.create(body),
    }),
    defineRoute({
      method: 'PUT',
      path: '/providers/:provider_id',
      tags,
      summary: 'Update a provider: fields sent with a value replace (administrators)',
      access: 'admin',
      params: idParams,
      body: updateProviderBody,
      responses: { 200: providerSchema },
      errors: [403, 404, 409],
      handler: ({ params, body }) => svc.update(params.provider_id, body),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/providers/:provider_id',
      tags,
      summary: 'Remove a provider (administrators); 204',
      access: 'admin',
      params: idParams,
      responses: { 204: z.null().meta({ description: 'Deleted (no body)' }) },
      errors: [403, 404],
      async handler({ params }) {
        await svc.delete(params.provider_id);
        return new Reply(204, null);
      },
    }),
  ];
}

export function providersModule(infra: Infra): Module<ProviderService> {
  const svc = new ProviderService(infra.store.db);
  return { name: 'providers', services: svc, routes: providerRoutes(svc) };
}
