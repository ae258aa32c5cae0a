/** /v1/config, /v1/applications, /v1/config/declarations and /v1/dynamic-config through HTTP, SQLite and PostgreSQL. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startTestPlatform, tempDir, type TestPlatform } from '../../test/helpers.js';
import { adminToken, authHeaders, createUser, passwordToken } from '../../test/identity-helpers.js';
import { overrideKey } from './customer-config.js';

describe.each(DB_KINDS)('runtime configuration on %s', (db) => {
  let p: TestPlatform;
  const tmp = tempDir();
  const tok: Record<string, string> = {};
  let adminId = '';
  const req = (who: string | null, method: string, url: string, payload?: unknown) =>
    p.app.inject({ method: method as 'GET', url, headers: who ? authHeaders(tok[who]) : {}, ...(payload !== undefined ? { payload: payload as object } : {}) });
  const err = (res: { json(): any }) => res.json().error as { message: string; details: unknown; help: string | null };
  const config = async () => (await req(null, 'GET', '/v1/config')).json() as Array<{ id: string; settings: Record<string, unknown> }>;

  beforeAll(async () => {
    const file = path.join(tmp.dir, 'customer.yaml');
    writeFileSync(
      file,
      [
        'components:',
        '  - id: "userGuide"',
        '    settings: { enabled: true, name: "Docs", url: "https://docs.example.com" }',
        '  - id: "hidden"',
        '    settings: { enabled: false }',
        '  - id: "applications:notes"',
        '    settings: { enabled: true, name: "Notes", url: "/notes", type: "link", description: "Team notes", created_by: "Ops" }',
        '  - id: "chatDisclaimer"',
        '    settings: { enabled: false, text: "From YAML" }',
        '  - id: "features:userManagement"',
        '    settings: { enabled: false }',
      ].join('\n'),
    );
    p = await startTestPlatform({ db, env: { CODEMIE_CUSTOMER_CONFIG: file } });
    tok.admin = await adminToken(p);
    adminId = (await req('admin', 'GET', '/v1/user')).json().user_id;
    await createUser(p, { username: 'dev', roles: ['developer', 'auditor'] });
    tok.dev = await passwordToken(p, 'dev');
  });
  afterAll(async () => {
    await p?.stop();
    tmp.cleanup();
  });

  it('GET /v1/config: enabled components only, anonymous, computed ones last and not overridable', async () => {
    const res = await req(null, 'GET', '/v1/config');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual([
      { id: 'userGuide', settings: { enabled: true, availableForExternal: true, name: 'Docs', url: 'https://docs.example.com' } },
      {
        id: 'applications:notes',
        settings: { enabled: true, availableForExternal: true, name: 'Notes', url: '/notes', type: 'link', description: 'Team notes', created_by: 'Ops' },
      },
      { id: 'features:userManagement', settings: { enabled: true, availableForExternal: true } },
      { id: 'idpProvider', settings: { enabled: true, availableForExternal: true, value: 'local' } },
    ]);
    const apps = await req(null, 'GET', '/v1/applications');
    expect(apps.json()).toEqual([
      { name: 'Notes', description: 'Team notes', created_by: 'Ops', icon_url: null, slug: 'notes', entry: '/notes', type: 'link', arguments: null },
    ]);
  });

  it('declarations: list, one, save with checks, reset', async () => {
    const list = await req('admin', 'GET', '/v1/config/declarations');
    expect(list.statusCode).toBe(200);
    const chat = list.json().find((d: any) => d.component_id === 'chatDisclaimer');
    expect(chat).toMatchObject({ label: 'Chat disclaimer', overridden: false, value: { enabled: false, text: 'From YAML' } });
    expect(chat.fields.map((f: any) => [f.name, f.type, f.max_length, f.markup])).toEqual([
      ['enabled', 'switch', null, 'plain'],
      ['text', 'textarea', 1000, 'markdown'],
    ]);
    expect(list.json().map((d: any) => d.component_id)).toEqual(['chatDisclaimer', 'banner', 'features:webSearch', 'mcpCustomServersDisabled']);
    expect((await req('admin', 'GET', '/v1/config/declarations/banner')).json()).toMatchObject({
      component_id: 'banner',
      value: { enabled: false, message: '', linkLabel: '', linkRoute: '' },
    });
    expect((await req('admin', 'GET', '/v1/config/declarations/nope')).statusCode).toBe(404);

    const saved = await req('admin', 'PUT', '/v1/config/declarations/chatDisclaimer', {
      settings: { enabled: true, text: 'See <b>the</b> [terms](https://x) &amp; <script>alert(1)</script>rules' },
    });
    expect(saved.json()).toEqual({ component_id: 'chatDisclaimer', settings: { enabled: true, text: 'See the [terms](https://x) & rules' } });
    expect((await config()).find((c) => c.id === 'chatDisclaimer')).toEqual({
      id: 'chatDisclaimer',
      settings: { enabled: true, availableForExternal: true, text: 'See the [terms](https://x) & rules' },
    });
    expect((await req('admin', 'GET', '/v1/config/declarations/chatDisclaimer')).json()).toMatchObject({ overridden: true, value: { enabled: true } });
    // Overrides live in dynamic configuration.
    const row = await req('admin', 'GET', `/v1/dynamic-config/${overrideKey('chatDisclaimer')}`);
    expect(row.json()).toMatchObject({ key: 'CUSTOMER_CONFIG__CHAT_DISCLAIMER', value_type: 'string', description: 'Chat disclaimer', updated_by: adminId });

    const cases: Array<[string, unknown, number, string, string]> = [
      ['chatDisclaimer', { enabled: true }, 400, 'Missing configuration field', "Field 'text' is required by the declaration"],
      ['chatDisclaimer', { enabled: 'yes', text: '' }, 400, 'Invalid configuration value', "Field 'enabled' must be of type bool"],
      ['chatDisclaimer', { enabled: true, text: true }, 400, 'Invalid configuration value', "Field 'text' must be of type str"],
      [
        'chatDisclaimer',
        { enabled: true, text: '[x](javascript:alert(1))' },
        400,
        'Unsafe link in configuration value',
        "Field 'text' contains a link with a disallowed scheme",
      ],
      ['chatDisclaimer', { enabled: true, text: 'x'.repeat(1001) }, 400, 'Configuration value too long', "Field 'text' exceeds its limit of 1000 characters"],
      [
        'chatDisclaimer',
        { enabled: true, text: '', extra: 1, another: 2 },
        400,
        'Unknown configuration fields',
        "Fields not declared for 'chatDisclaimer': another, extra",
      ],
      [
        'banner',
        { enabled: true, message: 'm', linkLabel: 'go', linkRoute: ' Java&#115;cript:alert(1)' },
        400,
        'Unsafe link in configuration value',
        "Field 'linkRoute' uses a disallowed URL scheme",
      ],
      ['nope', {}, 404, 'Setting not found', "Component 'nope' is not declared as dynamic configuration"],
    ];
    for (const [id, settings, status, message, details] of cases) {
      const res = await req('admin', 'PUT', `/v1/config/declarations/${id}`, { settings });
      expect([res.statusCode, err(res).message, err(res).details], JSON.stringify(settings)).toEqual([status, message, details]);
    }
    expect((await req('admin', 'PUT', '/v1/config/declarations/banner', { settings: 'x' })).statusCode).toBe(422);

    // mcpCustomServersDisabled: absent from /v1/config until switched on (the SDK's is_mcp_custom_servers_disabled).
    expect((await config()).some((c) => c.id === 'mcpCustomServersDisabled')).toBe(false);
    await req('admin', 'PUT', '/v1/config/declarations/mcpCustomServersDisabled', { settings: { enabled: true } });
    expect((await config()).find((c) => c.id === 'mcpCustomServersDisabled')).toEqual({
      id: 'mcpCustomServersDisabled',
      settings: { enabled: true, availableForExternal: true },
    });
    expect(await p.services.runtimeConfig.customer.isComponentEnabled('mcpCustomServersDisabled')).toBe(true);
    expect((await req('admin', 'DELETE', '/v1/config/declarations/mcpCustomServersDisabled')).statusCode).toBe(204);
    expect((await req('admin', 'DELETE', '/v1/config/declarations/mcpCustomServersDisabled')).statusCode).toBe(204);
    expect((await config()).some((c) => c.id === 'mcpCustomServersDisabled')).toBe(false);
    expect((await req('admin', 'DELETE', '/v1/config/declarations/nope')).statusCode).toBe(404);

    for (const [method, url, body] of [
      ['GET', '/v1/config/declarations', undefined],
      ['PUT', '/v1/config/declarations/banner', { settings: {} }],
      ['DELETE', '/v1/config/declarations/banner', undefined],
    ] as const) {
      const res = await req('dev', method, url, body);
      expect([res.statusCode, err(res).details], `${method} ${url}`).toEqual([403, 'This action requires administrator or maintainer privileges.']);
    }
  });

  it('dynamic config: typed values, 201/204, the reference texts, admins only', async () => {
    const created = await req('admin', 'POST', '/v1/dynamic-config/', { key: 'SDK_TEST_FLAG', value: 'True', value_type: 'bool', description: 'A flag' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ key: 'SDK_TEST_FLAG', value: 'True', value_type: 'bool', description: 'A flag', updated_by: adminId });
    expect(await p.services.runtimeConfig.dynamic.getBool('SDK_TEST_FLAG', false)).toBe(true);
    const dup = await req('admin', 'POST', '/v1/dynamic-config', { key: 'SDK_TEST_FLAG', value: 'x', value_type: 'bool' });
    expect([dup.statusCode, err(dup)]).toEqual([
      409,
      { message: 'Config already exists', details: "Configuration key 'SDK_TEST_FLAG' already exists. Use PUT to update.", help: null },
    ]);
    // PUT without value_type keeps the stored type.
    const put = await req('admin', 'PUT', '/v1/dynamic-config/SDK_TEST_FLAG', { value: 'False' });
    expect(put.json()).toMatchObject({ value: 'False', value_type: 'bool', description: 'A flag' });
    expect(await p.services.runtimeConfig.dynamic.getBool('SDK_TEST_FLAG', true)).toBe(false);
    const badBool = await req('admin', 'PUT', '/v1/dynamic-config/SDK_TEST_FLAG', { value: '5' });
    expect([badBool.statusCode, err(badBool).message, err(badBool).details]).toEqual([
      400,
      'Invalid boolean value',
      "Value '5' is not a valid boolean. Accepted values: true/false, yes/no, on/off, 1/0, t/f, y/n (case-insensitive).",
    ]);
    const lower = await req('admin', 'POST', '/v1/dynamic-config/', { key: 'lower_key', value: '1', value_type: 'int' });
    expect([lower.statusCode, err(lower).message]).toEqual([400, 'Invalid key format']);
    expect(err(lower).details).toContain("Key 'lower_key' does not match UPPER_SNAKE_CASE pattern.");
    const badInt = await req('admin', 'POST', '/v1/dynamic-config/', { key: 'MAX_X', value: '4.2', value_type: 'int' });
    expect([badInt.statusCode, err(badInt).message, err(badInt).details]).toEqual([
      400,
      'Invalid int value',
      "Cannot convert '4.2' to int. Error: invalid literal for int() with base 10: '4.2'",
    ]);
    const badFloat = await req('admin', 'POST', '/v1/dynamic-config/', { key: 'RATIO', value: 'abc', value_type: 'float' });
    expect(err(badFloat).details).toBe("Cannot convert 'abc' to float. Error: could not convert string to float: 'abc'");
    expect((await req('admin', 'POST', '/v1/dynamic-config/', { key: 'RATIO', value: '2.5e1', value_type: 'float' })).statusCode).toBe(201);
    expect(await p.services.runtimeConfig.dynamic.getFloat('RATIO', 0)).toBe(25);
    // A type mismatch on read gives the default, never an error.
    expect(await p.services.runtimeConfig.dynamic.getInt('RATIO', 7)).toBe(7);
    expect((await req('admin', 'POST', '/v1/dynamic-config/', { key: 'NUM', value: 5, value_type: 'int' })).statusCode).toBe(422);
    expect((await req('admin', 'POST', '/v1/dynamic-config/', { key: 'NUM', value: '5', value_type: 'long' })).statusCode).toBe(422);

    const list = (await req('admin', 'GET', '/v1/dynamic-config')).json().map((e: any) => e.key);
    expect(list).toEqual([...list].sort());
    expect(list).toEqual(expect.arrayContaining(['CUSTOMER_CONFIG__CHAT_DISCLAIMER', 'RATIO', 'SDK_TEST_FLAG']));
    expect((await req('admin', 'DELETE', '/v1/dynamic-config/SDK_TEST_FLAG')).statusCode).toBe(204);
    const gone = await req('admin', 'GET', '/v1/dynamic-config/SDK_TEST_FLAG');
    expect([gone.statusCode, err(gone).message, err(gone).details]).toEqual([404, 'Config not found', "Configuration key 'SDK_TEST_FLAG' does not exist"]);
    expect((await req('admin', 'DELETE', '/v1/dynamic-config/SDK_TEST_FLAG')).statusCode).toBe(404);
    expect((await req('admin', 'PUT', '/v1/dynamic-config/SDK_TEST_FLAG', { value: 'x' })).statusCode).toBe(404);
    expect(await p.services.runtimeConfig.dynamic.getBool('SDK_TEST_FLAG', true)).toBe(true);

    // A raw row under a declaration's key overrides /v1/config too (per field; YAML fills the rest).
    await req('admin', 'PUT', `/v1/dynamic-config/${overrideKey('chatDisclaimer')}`, { value: '{"enabled": false}' });
    expect((await config()).some((c) => c.id === 'chatDisclaimer')).toBe(false);
    await req('admin', 'POST', '/v1/dynamic-config/', { key: overrideKey('features:webSearch'), value: '{"enabled": true, "bogus": 1}', value_type: 'string' });
    expect((await config()).find((c) => c.id === 'features:webSearch')).toEqual({
      id: 'features:webSearch',
      settings: { enabled: true, availableForExternal: true },
    });

    for (const [method, url] of [
      ['GET', '/v1/dynamic-config'],
      ['POST', '/v1/dynamic-config'],
      ['DELETE', '/v1/dynamic-config/RATIO'],
    ] as const) {
      const res = await req('dev', method, url, method === 'POST' ? { key: 'A', value: '1', value_type: 'int' } : undefined);
      expect(res.statusCode, `${method} ${url}`).toBe(403);
    }
  });
});

describe('customer config file', () => {
  it('a bad CODEMIE_CUSTOMER_CONFIG stops the start with a message naming it', async () => {
    const tmp = tempDir();
    const file = path.join(tmp.dir, 'bad.yaml');
    writeFileSync(file, 'components:\n  - id: x\n    settings: { name: "no enabled" }\n');
    await expect(startTestPlatform({ env: { CODEMIE_CUSTOMER_CONFIG: file } })).rejects.toThrow(
      /CODEMIE_CUSTOMER_CONFIG .*components\[0\] \(x\): settings must be a mapping with a boolean 'enabled'/,
    );
    tmp.cleanup();
  });

  it('the built-in defaults describe this platform', async () => {
    const p = await startTestPlatform();
    try {
      const ids = (await p.app.inject({ url: '/v1/config' })).json().map((c: any) => c.id);
      expect(ids).toEqual(['adminActions', 'mcpConnect', 'features:userAbilityToCreateProject', 'features:userManagement', 'idpProvider']);
    } finally {
      await p.stop();
    }
  });
});
