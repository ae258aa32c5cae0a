/** Providers through HTTP on both databases: admin-only writes, the reference's validation texts, 404/409, datasource schemas. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startTestPlatform, testAuthHeaders, type TestPlatform } from '../../test/helpers.js';

const admin = testAuthHeaders({ id: 'root', username: 'root', roles: ['admin'], projects: [] });
const user = testAuthHeaders({ id: 'u', username: 'u', projects: ['demo'] });

const tool = (name: string, purpose: string, action: string | null, args: Record<string, unknown> = {}) => ({
  name,
  args_schema: args,
  tool_metadata: { tool_purpose: purpose, tool_action_type: action },
});
const dsToolkit = (over: Record<string, unknown> = {}) => ({
  name: 'Search',
  description: 'Indexes documents',
  toolkit_config: {
    type: 'datasource',
    description: 'Document index',
    parameters: { url: { type: 'URL', description: 'Where', required: true }, id: { type: 'UUID' }, managed: { type: 'String' } },
  },
  toolkit_metadata: { managed_fields: { managed: 'x' } },
  provided_tools: [
    tool('create', 'life_cycle_management', 'create', { index_name: { type: 'String', description: 'Name' }, owner: { type: 'String', required: false } }),
    tool('modify', 'life_cycle_management', 'modify'),
    tool('remove', 'life_cycle_management', 'remove'),
    tool('search', 'data_retrieval', 'data_retrieval', { query: { type: 'String' } }),
  ],
  ...over,
});

describe.each(DB_KINDS)('providers (%s)', (db) => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform({ db, testAuth: true });
  });
  afterAll(async () => p.stop());
  const req = (method: string, url: string, headers: Record<string, string>, payload?: unknown) =>
    p.app.inject({ method: method as 'GET', url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });

  it('create (admin) → the stored provider; list, get; non-admins may read but not write', async () => {
    const body = { name: 'Docs', service_location_url: 'https://docs.example.com', configuration: { auth_type: 'Bearer' }, provided_toolkits: [dsToolkit()] };
    expect((await req('POST', '/v1/providers', user, body)).statusCode).toBe(403);
    const res = await req('POST', '/v1/providers', admin, body);
    expect(res.statusCode).toBe(200);
    const created = res.json();
    expect(created).toMatchObject({ name: 'Docs', service_location_url: 'https://docs.example.com/', configuration: { auth_type: 'Bearer' } });
    const tk = created.provided_toolkits[0];
    expect(tk.toolkit_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(tk.provided_tools[3]).toMatchObject({
      name: 'search',
      tool_result_type: 'String',
      sync_invocation_supported: true,
      async_invocation_supported: false,
    });
    expect(tk.provided_tools[0].args_schema.index_name).toMatchObject({ type: 'String', required: true });
    expect((await req('GET', '/v1/providers', user)).json()).toEqual([created]);
    expect((await req('GET', `/v1/providers/${created.id}`, user)).json()).toEqual(created);

    const dup = await req('POST', '/v1/providers', admin, body);
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error).toEqual({
      message: 'Conflict',
      details: 'A provider with the name [Docs] already exists.',
      help: 'Please choose a different name and try again.',
    });

    const schemas = (await req('GET', '/v1/providers/datasource_schemas', user)).json();
    expect(schemas).toEqual([
      expect.objectContaining({
        id: created.id,
        toolkit_id: tk.toolkit_id,
        provider_name: 'Docs',
        name: 'Docs - Search',
        base_schema: {
          description: 'Document index',
          parameters: [expect.objectContaining({ name: 'url', parameter_type: 'URL', required: true, description: 'Where' })],
        },
      }),
    ]);
    expect(schemas[0].create_schema.parameters.map((x: { name: string; required: boolean }) => [x.name, x.required])).toEqual([
      ['index_name', true],
      ['owner', false],
    ]);

    const upd = await req('PUT', `/v1/providers/${created.id}`, admin, { name: 'Docs 2', service_location_url: null });
    expect(upd.json()).toMatchObject({ name: 'Docs 2', service_location_url: 'https://docs.example.com/' });
    expect((await req('PUT', `/v1/providers/${created.id}`, user, { name: 'x' })).statusCode).toBe(403);
    expect((await req('DELETE', `/v1/providers/${created.id}`, admin)).statusCode).toBe(204);
    const nf = await req('GET', `/v1/providers/${created.id}`, user);
    expect(nf.statusCode).toBe(404);
    expect(nf.json().error).toMatchObject({ message: 'Not found', details: `The provider with ID [${created.id}] could not be found in the system.` });
    expect((await req('DELETE', `/v1/providers/${created.id}`, admin)).statusCode).toBe(404);
  });

  it('validation: the reference texts for missing fields and for datasource toolkits without the required tools', async () => {
    const empty = await req('POST', '/v1/providers', admin, {});
    expect(empty.statusCode).toBe(422);
    const msgs = empty.json().error.details.map((d: { loc: string; msg: string }) => `${d.loc}: ${d.msg}`);
    expect(msgs).toEqual([
      'name: Provider name is required and cannot be empty',
      'service_location_url: Service location URL is required',
      'configuration: Provider configuration is required',
      'provided_toolkits: At least one toolkit must be provided',
    ]);
    const base = { name: 'P', service_location_url: 'https://p.example.com', configuration: {} };
    const noRetrieval = await req('POST', '/v1/providers', admin, {
      ...base,
      provided_toolkits: [dsToolkit({ provided_tools: [tool('c', 'life_cycle_management', 'create')] })],
    });
    expect(noRetrieval.statusCode).toBe(422);
    expect(noRetrieval.json().error.details).toEqual([{ loc: 'provided_tools', msg: 'No data retrieval tools found in the toolkit', type: 'value_error' }]);
    const missing = await req('POST', '/v1/providers', admin, {
      ...base,
      provided_toolkits: [dsToolkit({ provided_tools: [tool('c', 'life_cycle_management', 'create'), tool('s', 'data_retrieval', null)] })],
    });
    expect(missing.json().error.details[0].msg).toBe('The toolkit does not have the required lifecycle actions, missing: remove, modify');
    const badUrl = await req('POST', '/v1/providers', admin, { ...base, service_location_url: 'ftp://x', provided_toolkits: [dsToolkit()] });
    expect(badUrl.statusCode).toBe(422);
    expect((await req('GET', '/v1/providers', admin)).json()).toEqual([]);
  });
});
