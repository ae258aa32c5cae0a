/**
 * /v1/projects... and the admin "applications" views through HTTP, with real tokens of the embedded
 * IdP: stored memberships drive every ACL (an assistant in a project, right after an assignment),
 * the reference's texts for every refusal, SQLite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startTestPlatform, type TestPlatform } from '../../test/helpers.js';
import { adminToken, authHeaders, createUser, passwordToken } from '../../test/identity-helpers.js';

const INVALID_NAME =
  'Invalid project name. Must be 3-100 lowercase alphanumeric characters (underscore/hyphen allowed), cannot contain uppercase letters, cannot start with special character, and cannot use reserved names (admin, system, root, api, null, undefined, default, test, demo)';

describe.each(DB_KINDS)('projects API on %s', (db) => {
  let p: TestPlatform;
  const tok: Record<string, string> = {};
  const ids: Record<string, string> = {};
  const as = (who: string) => authHeaders(tok[who]);
  const req = (who: string, method: string, url: string, payload?: unknown) =>
    p.app.inject({ method: method as 'GET', url, headers: as(who), ...(payload !== undefined ? { payload: payload as object } : {}) });
  const err = (res: { json(): any }) => res.json().error as { message: string; details: unknown; help: string | null };

  beforeAll(async () => {
    p = await startTestPlatform({ db });
    tok.admin = await adminToken(p);
    for (const [name, roles] of [
      ['owner', ['developer']],
      ['bob', ['developer']],
      ['carol', ['developer']],
      ['dave', ['developer']],
      ['audra', ['developer', 'auditor']],
    ] as const) {
      const u = await createUser(p, { username: name, roles: [...roles] });
      ids[name] = u.id;
      tok[name] = await passwordToken(p, name);
    }
  });
  afterAll(async () => p?.stop());

  it('creates a shared project; the creator administers it', async () => {
    const res = await req('owner', 'POST', '/v1/projects', { name: 'alpha-one', description: 'First', display_name: '  Alpha One  ' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      name: 'alpha-one',
      display_name: 'Alpha One',
      description: 'First',
      project_type: 'shared',
      created_by: ids.owner,
      cost_center_id: null,
      enforce_member_spend_limits: false,
      chargeback_attribution: 'project',
      chargeback_enabled: false,
    });
    expect(Date.parse(res.json().created_at)).toBeGreaterThan(0);
    // The same token sees the new membership at once (the membership cache was invalidated).
    const me = await req('owner', 'GET', '/v1/user');
    expect(me.json().applications_admin).toContain('alpha-one');
    expect(me.json().projects).toContainEqual({ name: 'alpha-one', display_name: 'Alpha One', is_project_admin: true, is_default: false });
  });

  it('refuses bad names, descriptions, duplicates with the reference texts', async () => {
    const cases: Array<[unknown, number, string]> = [
      [{ name: 'ab' }, 400, 'Project name must be at least 3 characters'],
      [{ name: 'a'.repeat(101) }, 400, 'Project name cannot exceed 100 characters'],
      [{ name: 'Bad' }, 400, INVALID_NAME],
      [{ name: '-x1' }, 400, INVALID_NAME],
      [{ name: 'a b' }, 400, INVALID_NAME],
      [{ name: 'demo' }, 400, "Project name 'demo' is reserved and cannot be used"],
      [{ name: 'admin' }, 400, "Project name 'admin' is reserved and cannot be used"],
      [{ name: 'desc-ok', description: '   ' }, 400, 'Project description is required'],
      [{ name: 'desc-ok', description: 'x'.repeat(501) }, 400, 'Project description cannot exceed 500 characters'],
      [{ name: 'desc-ok', display_name: 'd'.repeat(151) }, 400, 'Project display name cannot exceed 150 characters'],
      [{ name: 'alpha-one' }, 409, "Project 'alpha-one' already exists. Please choose a different name."],
      [{}, 422, 'name: Field required'],
      [{ name: 'cc-x', cost_center_id: 'nope' }, 422, 'cost_center_id: Input should be a valid UUID'],
    ];
    for (const [body, status, message] of cases) {
      const res = await req('admin', 'POST', '/v1/projects', body);
      expect([res.statusCode, err(res).message], JSON.stringify(body)).toEqual([status, message]);
      expect(Object.keys(res.json().error).sort()).toEqual(['details', 'help', 'message']);
    }
    // Case-insensitive uniqueness: an application created by the admin API in upper case blocks the lower-case name.
    expect((await req('admin', 'POST', '/v1/admin/application', { name: 'UPPER-App' })).statusCode).toBe(200);
    const dup = await req('admin', 'POST', '/v1/projects', { name: 'upper-app' });
    expect([dup.statusCode, err(dup).message]).toEqual([409, "Project 'UPPER-App' already exists. Please choose a different name."]);
  });

  it('limits the shared projects a user creates (default 3; an admin raises it)', async () => {
    for (const n of ['dave-1', 'dave-2', 'dave-3']) expect((await req('dave', 'POST', '/v1/projects', { name: n })).statusCode).toBe(201);
    const fourth = await req('dave', 'POST', '/v1/projects', { name: 'dave-4' });
    expect([fourth.statusCode, err(fourth).message]).toEqual([403, 'Project creation limit reached (3/3). Contact administrator to increase your limit.']);
    const raised = await req('admin', 'PUT', `/v1/admin/users/${ids.dave}`, { project_limit: 4 });
    expect(raised.json().project_limit).toBe(4);
    expect((await req('dave', 'POST', '/v1/projects', { name: 'dave-4' })).statusCode).toBe(201);
    await req('admin', 'PUT', `/v1/admin/users/${ids.dave}`, { project_limit: 2 });
    const over = await req('dave', 'POST', '/v1/projects', { name: 'dave-5' });
    expect(err(over).message).toBe('Project creation limit reached (4/2). Delete 2 or more projects to create new ones.');
  });

  it('lists what the caller can see, with counts, counters, search, sorting and pages', async () => {
    const mine = await req('owner', 'GET', '/v1/projects');
    expect(mine.statusCode).toBe(200);
    expect(mine.json().data.map((r: any) => r.name)).toEqual(['alpha-one']);
    expect(mine.json().data[0]).toMatchObject({
      user_count: 1,
      admin_count: 1,
      counters: { assistants_count: 0, workflows_count: 0, integrations_count: 0, datasources_count: 0, skills_count: 0 },
      spending: null,
      budgets: null,
      project_type: 'shared',
    });
    expect(mine.json().pagination).toMatchObject({ total: 1, page: 0, per_page: 20 });
    expect((await req('bob', 'GET', '/v1/projects')).json().data).toEqual([]);

    // Admins and auditors see every project.
    for (const who of ['admin', 'audra']) {
      const all = (await req(who, 'GET', '/v1/projects?per_page=100')).json();
      expect(all.data.map((r: any) => r.name)).toEqual(expect.arrayContaining(['alpha-one', 'dave-1', 'UPPER-App', 'demo']));
    }
    const noCounters = (await req('admin', 'GET', '/v1/projects?include_counters=False')).json();
    expect(noCounters.data.every((r: any) => r.counters === null)).toBe(true);
    const search = (await req('admin', 'GET', '/v1/projects?search=ALPHA')).json();
    expect(search.data.map((r: any) => r.name)).toEqual(['alpha-one']);
    const byDisplay = (await req('admin', 'GET', '/v1/projects?search=Alpha%20One')).json();
    expect(byDisplay.data.map((r: any) => r.name)).toEqual(['alpha-one']);
    const desc = (await req('admin', 'GET', '/v1/projects?search=dave&sort_by=name&sort_order=desc')).json();
    expect(desc.data.map((r: any) => r.name)).toEqual(['dave-4', 'dave-3', 'dave-2', 'dave-1']);
    // `_` and `%` are literal in searches (LIKE escapes on both databases).
    expect((await req('admin', 'GET', '/v1/projects?search=dave_')).json().data).toEqual([]);
    expect((await req('admin', 'GET', '/v1/projects?search=%25')).json().data).toEqual([]);

    for (let i = 0; i < 12; i++) await req('admin', 'POST', '/v1/projects', { name: `page-${String(i).padStart(2, '0')}` });
    const p0 = (await req('admin', 'GET', '/v1/projects?search=page-&per_page=10&page=0&sort_by=name')).json();
    const p1 = (await req('admin', 'GET', '/v1/projects?search=page-&per_page=10&page=1&sort_by=name')).json();
    expect([p0.data.length, p1.data.length, p0.pagination.total]).toEqual([10, 2, 12]);
    expect(new Set([...p0.data, ...p1.data].map((r: any) => r.name)).size).toBe(12);

    const small = await req('admin', 'GET', '/v1/projects?per_page=5');
    expect([small.statusCode, err(small).message]).toEqual([422, 'query.per_page: Input should be greater than or equal to 10']);
    const budgets = await req('admin', 'GET', '/v1/projects?has_assigned_budgets=true');
    expect([budgets.statusCode, err(budgets).message]).toEqual([400, 'Project budget filtering requires budget enforcement provider configuration']);
  });

  it('detail: members; 404 for callers who may not see the project', async () => {
    const det = await req('owner', 'GET', '/v1/projects/alpha-one');
    expect(det.statusCode).toBe(200);
    expect(det.json()).toMatchObject({ name: 'alpha-one', user_count: 1, admin_count: 1, members: [{ user_id: ids.owner, is_project_admin: true }] });
    expect((await req('audra', 'GET', '/v1/projects/alpha-one')).statusCode).toBe(200);
    for (const [method, url, body] of [
      ['GET', '/v1/projects/alpha-one', undefined],
      ['DELETE', '/v1/projects/alpha-one', undefined],
      ['PATCH', '/v1/projects/alpha-one', { description: 'x' }],
      ['POST', '/v1/projects/alpha-one/assignment', { user_id: ids.bob, is_project_admin: true }],
      ['PUT', '/v1/projects/alpha-one/ownership', { user_id: ids.bob }],
    ] as const) {
      const res = await req('bob', method, url, body);
      expect([res.statusCode, err(res).message], `${method} ${url}`).toEqual([404, 'Project not found']);
    }
    expect((await req('owner', 'GET', '/v1/projects/nope-nope')).statusCode).toBe(404);
  });

  it('membership: assign, update, remove — the ACL of other domains follows at once', async () => {
    // bob cannot create an assistant in alpha-one before he is a member.
    const assistant = { name: 'A1', description: 'd', system_prompt: 's', project: 'alpha-one' };
    expect((await req('bob', 'POST', '/v1/assistants', assistant)).statusCode).toBe(403);

    const a = await req('owner', 'POST', '/v1/projects/alpha-one/assignment', { user_id: ids.bob, is_project_admin: false });
    expect(a.json()).toEqual({ message: 'User assigned to project successfully', user_id: ids.bob, project_name: 'alpha-one', is_project_admin: false });
    expect((await req('bob', 'GET', '/v1/projects')).json().data.map((r: any) => r.name)).toEqual(['alpha-one']);
    const created = await req('bob', 'POST', '/v1/assistants', assistant);
    expect(created.statusCode).toBe(200);

    const again = await req('owner', 'POST', '/v1/projects/alpha-one/assignment', { user_id: ids.bob, is_project_admin: false });
    expect([again.statusCode, err(again)]).toEqual([
      409,
      {
        message: 'User already assigned to project',
        details: `User '${ids.bob}' is already a member of project 'alpha-one'`,
        help: "Use PUT endpoint to update user's role instead",
      },
    ]);
    // A member who is not a project admin sees the project but may not manage it.
    const denied = await req('bob', 'PATCH', '/v1/projects/alpha-one', { description: 'mine now' });
    expect([denied.statusCode, err(denied).message]).toEqual([403, 'Access denied']);

    const up = await req('owner', 'PUT', `/v1/projects/alpha-one/assignment/${ids.bob}`, { is_project_admin: true });
    expect(up.json()).toMatchObject({ message: 'User role updated successfully', is_project_admin: true });
    expect((await req('bob', 'PATCH', '/v1/projects/alpha-one', { description: 'edited by bob' })).json().description).toBe('edited by bob');

    const unknown = '0190a5e4-0000-7000-8000-000000000000';
    const bad = await req('owner', 'POST', '/v1/projects/alpha-one/assignment', { user_id: 'not-a-uuid', is_project_admin: false });
    expect([bad.statusCode, err(bad).message, err(bad).details]).toEqual([400, 'Invalid user_id format', 'user_id must be a valid UUID']);
    const missing = await req('owner', 'POST', '/v1/projects/alpha-one/assignment', { user_id: unknown, is_project_admin: false });
    expect([missing.statusCode, err(missing)]).toEqual([
      404,
      { message: 'User not found', details: `No user found with ID '${unknown}'`, help: 'Verify the user ID and try again' },
    ]);
    const notMember = await req('owner', 'PUT', `/v1/projects/alpha-one/assignment/${ids.carol}`, { is_project_admin: true });
    expect([notMember.statusCode, err(notMember).message]).toEqual([404, 'User is not assigned to this project']);
    const creator = await req('bob', 'DELETE', `/v1/projects/alpha-one/assignment/${ids.owner}`);
    expect([creator.statusCode, err(creator).message, err(creator).details]).toEqual([
      400,
      'Cannot remove the project creator from the project',
      "User 'owner' is the creator of project 'alpha-one' and cannot be unassigned",
    ]);
    expect((await req('owner', 'POST', '/v1/projects/alpha-one/assignment', {})).statusCode).toBe(422);

    const rm = await req('owner', 'DELETE', `/v1/projects/alpha-one/assignment/${ids.bob}`);
    expect(rm.json()).toEqual({ message: 'User removed from project successfully', user_id: ids.bob, project_name: 'alpha-one', is_project_admin: null });
    const rm2 = await req('owner', 'DELETE', `/v1/projects/alpha-one/assignment/${ids.bob}`);
    expect([rm2.statusCode, err(rm2).message]).toEqual([404, 'User is not assigned to this project']);
    // bob's token is the same; his access is gone.
    expect((await req('bob', 'POST', '/v1/assistants', { ...assistant, name: 'A2' })).statusCode).toBe(403);
    expect((await req('bob', 'GET', '/v1/projects/alpha-one')).statusCode).toBe(404);
  });

  it('bulk assignment and removal are all or nothing', async () => {
    const res = await req('owner', 'POST', '/v1/projects/alpha-one/assignments', {
      users: [
        { user_id: ids.bob, is_project_admin: true },
        { user_id: ids.carol, is_project_admin: false },
      ],
    });
    expect(res.json()).toEqual({
      message: 'Bulk assignment completed: 2 users processed',
      project_name: 'alpha-one',
      total: 2,
      results: [
        { user_id: ids.bob, action: 'assigned', is_project_admin: true },
        { user_id: ids.carol, action: 'assigned', is_project_admin: false },
      ],
    });
    const upd = await req('owner', 'POST', '/v1/projects/alpha-one/assignments', { users: [{ user_id: ids.bob, is_project_admin: false }] });
    expect(upd.json().results).toEqual([{ user_id: ids.bob, action: 'updated', is_project_admin: false }]);
    const dups = await req('owner', 'POST', '/v1/projects/alpha-one/assignments', {
      users: [
        { user_id: ids.bob, is_project_admin: true },
        { user_id: ids.bob, is_project_admin: false },
      ],
    });
    expect([dups.statusCode, err(dups).message, err(dups).details]).toEqual([400, 'Duplicate user IDs in request', `Duplicate user_ids: ['${ids.bob}']`]);
    const empty = await req('owner', 'POST', '/v1/projects/alpha-one/assignments', { users: [] });
    expect([empty.statusCode, err(empty).message]).toEqual([422, 'users: List should have at least 1 item after validation, not 0']);
    const unknown = '0190a5e4-0000-7000-8000-00000000beef';
    const partly = await req('owner', 'POST', '/v1/projects/alpha-one/assignments', {
      users: [
        { user_id: ids.dave, is_project_admin: false },
        { user_id: unknown, is_project_admin: false },
      ],
    });
    expect([partly.statusCode, err(partly).details]).toEqual([404, `Users not found: ['${unknown}']`]);
    expect((await req('owner', 'GET', '/v1/projects/alpha-one')).json().members.map((m: any) => m.user_id)).not.toContain(ids.dave);

    const withCreator = await req('owner', 'DELETE', `/v1/projects/alpha-one/assignments?user_id=${ids.bob}&user_id=${ids.owner}`);
    expect([withCreator.statusCode, err(withCreator).message]).toEqual([400, 'Cannot remove the project creator from the project']);
    const notAll = await req('owner', 'DELETE', `/v1/projects/alpha-one/assignments?user_id=${ids.bob}&user_id=${ids.dave}`);
    expect([notAll.statusCode, err(notAll).message, err(notAll).details]).toEqual([
      404,
      'One or more users are not assigned to this project',
      `Users not assigned: ['${ids.dave}']`,
    ]);
    const none = await req('owner', 'DELETE', '/v1/projects/alpha-one/assignments');
    expect([none.statusCode, err(none).message]).toEqual([422, 'query.user_id: Field required']);
    const rm = await req('owner', 'DELETE', `/v1/projects/alpha-one/assignments?user_id=${ids.bob}&user_id=${ids.carol}`);
    expect(rm.json()).toMatchObject({
      message: 'Bulk removal completed: 2 users removed',
      total: 2,
      results: [
        { user_id: ids.bob, action: 'removed', is_project_admin: null },
        { user_id: ids.carol, action: 'removed' },
      ],
    });
  });

  it('CSV: per-row errors, structural 422/413, import all or nothing', async () => {
    const upload = (path: string, content: Buffer | string, who = 'owner') => {
      const boundary = '----csv' + Math.random().toString(16).slice(2);
      const payload = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="users.csv"\r\nContent-Type: text/csv\r\n\r\n`),
        Buffer.isBuffer(content) ? content : Buffer.from(content),
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      return p.app.inject({
        method: 'POST',
        url: `/v1/projects/alpha-one/${path}`,
        headers: { ...as(who), 'content-type': `multipart/form-data; boundary=${boundary}` },
        payload,
      });
    };
    const csv =
      '\ufeffemail,role\nBOB@example.com,project_admin\nnobody@example.com,user\nbob@example.com,user\ncarol@example.com,administrator\ncarol2@example.com,owner\n';
    const v = await upload('import-users/validate', csv);
    expect(v.statusCode).toBe(200);
    expect(v.json().users).toEqual([
      { email: 'bob@example.com', role: 'project_admin', error: null },
      { email: 'nobody@example.com', role: 'user', error: "User not found for email: 'nobody@example.com'" },
      { email: 'bob@example.com', role: 'user', error: "Duplicate email: 'bob@example.com' appears more than once" },
      { email: 'carol@example.com', role: 'project_admin', error: null },
      { email: 'carol2@example.com', role: 'owner', error: "Invalid role 'owner'. Allowed values: ['project_admin', 'user']" },
    ]);
    const bad = await upload('import-users', csv);
    expect([bad.statusCode, err(bad).message]).toEqual([422, 'CSV validation failed']);
    expect(err(bad).details).toEqual({
      validation_errors: [
        { row: 2, reason: "User not found for email: 'nobody@example.com'" },
        { row: 3, reason: "Duplicate email: 'bob@example.com' appears more than once" },
        { row: 5, reason: "Invalid role 'owner'. Allowed values: ['project_admin', 'user']" },
      ],
    });
    expect((await req('owner', 'GET', '/v1/projects/alpha-one')).json().user_count).toBe(1);

    for (const [content, details] of [
      ['name\nx\n', "CSV must contain an 'email' column"],
      ['email\n', 'CSV file must contain at least one data row'],
      ['email\n' + 'a@x.com\n'.repeat(1001), 'CSV exceeds the maximum of 1000 rows (got 1001)'],
    ] as const) {
      const res = await upload('import-users/validate', content);
      expect([res.statusCode, err(res).message, err(res).details]).toEqual([422, 'CSV validation failed', details]);
    }
    const latin1 = await upload('import-users/validate', Buffer.from([0xff, 0xfe, 0x41]));
    expect([latin1.statusCode, err(latin1).message]).toEqual([422, 'CSV decoding failed']);
    expect(err(latin1).details).toBe("File must be UTF-8 encoded: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte");
    const big = await upload('import-users/validate', Buffer.alloc(5 * 1024 * 1024 + 1, 'a'));
    expect([big.statusCode, err(big).message, err(big).details]).toEqual([413, 'File too large', 'CSV file must not exceed 5 MB']);
    const noFile = await p.app.inject({ method: 'POST', url: '/v1/projects/alpha-one/import-users/validate', headers: as('owner'), payload: {} });
    expect([noFile.statusCode, err(noFile).message]).toEqual([422, 'file: Field required']);
    expect((await upload('import-users/validate', 'email\nbob@example.com\n', 'bob')).statusCode).toBe(404);

    const ok = await upload('import-users', 'email,role\nbob@example.com,project_admin\n"carol@example.com",\n');
    expect(ok.json()).toMatchObject({
      message: 'CSV import completed: 2 users processed',
      total: 2,
      results: [
        { user_id: ids.bob, action: 'assigned', is_project_admin: true },
        { user_id: ids.carol, action: 'assigned', is_project_admin: false },
      ],
    });
    await req('owner', 'DELETE', `/v1/projects/alpha-one/assignments?user_id=${ids.bob}&user_id=${ids.carol}`);
  });

  it('update: fields, clears, validation, rename guard, chargeback not available', async () => {
    const d = await req('owner', 'PATCH', '/v1/projects/alpha-one', {
      display_name: 'Renamed view',
      description: 'new',
      clear_cost_center: false,
      clear_description: false,
    });
    expect(d.json()).toMatchObject({ name: 'alpha-one', display_name: 'Renamed view', description: 'new' });
    expect((await req('owner', 'PATCH', '/v1/projects/alpha-one', { clear_display_name: true })).json().display_name).toBeNull();
    expect((await req('owner', 'PATCH', '/v1/projects/alpha-one', { clear_description: true })).json().description).toBeNull();
    expect((await req('owner', 'PATCH', '/v1/projects/alpha-one', { enforce_member_spend_limits: true, cli_analytics_enabled: true })).json()).toMatchObject({
      enforce_member_spend_limits: true,
      cli_analytics_enabled: true,
    });
    const nothing = await req('owner', 'PATCH', '/v1/projects/alpha-one', { clear_description: false, clear_cost_center: false });
    expect([nothing.statusCode, err(nothing).message]).toEqual([422, 'request: Value error, At least one mutable field must be provided']);
    const both = await req('owner', 'PATCH', '/v1/projects/alpha-one', { display_name: 'x', clear_display_name: true });
    expect(err(both).message).toBe('request: Value error, Provide either display_name or clear_display_name');
    const rename = await req('owner', 'PATCH', '/v1/projects/alpha-one', { name: 'alpha-two' });
    expect([rename.statusCode, err(rename).message]).toEqual([409, 'Project name cannot be changed while users are assigned to it']);
    const clash = await req('owner', 'PATCH', '/v1/projects/alpha-one', { name: 'dave-1' });
    expect([clash.statusCode, err(clash).message]).toEqual([409, "Project 'dave-1' already exists. Please choose a different name."]);
    const charge = await req('owner', 'PATCH', '/v1/projects/alpha-one', { chargeback_attribution: 'cost_center' });
    expect([charge.statusCode, err(charge).message, err(charge).details]).toEqual([
      403,
      'Feature not available',
      'Project chargeback configuration is not enabled for this customer.',
    ]);
    // A project with no members can be renamed (admin-created ones).
    const renamed = await req('admin', 'PATCH', '/v1/projects/UPPER-App', { name: 'upper-renamed' });
    expect(renamed.json().name).toBe('upper-renamed');
    expect((await req('admin', 'GET', '/v1/projects/upper-renamed')).statusCode).toBe(200);
  });

  it('ownership transfer', async () => {
    await req('admin', 'POST', '/v1/projects', { name: 'handover' });
    const t = await req('admin', 'PUT', '/v1/projects/handover/ownership', { user_id: ids.carol });
    expect(t.json()).toEqual({ name: 'handover', created_by: ids.carol, message: `Project 'handover' ownership transferred to '${ids.carol}'` });
    const det = (await req('carol', 'GET', '/v1/projects/handover')).json();
    expect(det.created_by).toBe(ids.carol);
    expect(det.members).toContainEqual(expect.objectContaining({ user_id: ids.carol, is_project_admin: true }));
    const unknown = await req('carol', 'PUT', '/v1/projects/handover/ownership', { user_id: '0190a5e4-0000-7000-8000-000000000001' });
    expect([unknown.statusCode, err(unknown).message]).toEqual([404, 'User not found']);
  });

  it('delete: members and entities block it (409), then it goes', async () => {
    await req('admin', 'POST', '/v1/projects/alpha-one/assignment', { user_id: ids.carol, is_project_admin: false });
    const withMember = await req('owner', 'DELETE', '/v1/projects/alpha-one');
    expect([withMember.statusCode, err(withMember).message, err(withMember).details]).toEqual([
      409,
      "Project 'alpha-one' cannot be deleted because it has assigned users. Remove all users first.",
      'Assigned users: 1',
    ]);
    await req('admin', 'DELETE', `/v1/projects/alpha-one/assignment/${ids.carol}`);
    const withAssistant = await req('owner', 'DELETE', '/v1/projects/alpha-one');
    expect([withAssistant.statusCode, err(withAssistant).message, err(withAssistant).details]).toEqual([
      409,
      "Project 'alpha-one' cannot be deleted because it has assigned resources. Remove all assistants, workflows, skills, datasources, and integrations first.",
      "{'assistants_count': 1}",
    ]);
    const list = (await req('owner', 'GET', '/v1/projects')).json().data.find((r: any) => r.name === 'alpha-one');
    expect(list.counters.assistants_count).toBe(1);
    const assistants = (await req('admin', 'GET', '/v1/assistants?scope=visible_to_user&per_page=100')).json();
    const rows = (assistants.data ?? assistants) as Array<{ id: string; project: string }>;
    for (const a of rows.filter((r) => r.project === 'alpha-one')) expect((await req('admin', 'DELETE', `/v1/assistants/${a.id}`)).statusCode).toBe(200);

    const ok = await req('owner', 'DELETE', '/v1/projects/alpha-one');
    expect(ok.json()).toEqual({ message: "Project 'alpha-one' deleted successfully", name: 'alpha-one' });
    expect((await req('owner', 'GET', '/v1/projects/alpha-one')).statusCode).toBe(404);
    expect((await req('owner', 'GET', '/v1/user')).json().applications).not.toContain('alpha-one');
  });

  it('auditors read every project but manage none; project admins manage only theirs', async () => {
    await req('carol', 'POST', '/v1/projects', { name: 'carol-proj' });
    expect((await req('audra', 'GET', '/v1/projects/carol-proj')).statusCode).toBe(200);
    for (const [method, url, body] of [
      ['PATCH', '/v1/projects/carol-proj', { description: 'x' }],
      ['DELETE', '/v1/projects/carol-proj', undefined],
      ['POST', '/v1/projects/carol-proj/assignment', { user_id: ids.audra, is_project_admin: true }],
    ] as const) {
      const res = await req('audra', method, url, body);
      expect([res.statusCode, err(res).message], `${method} ${url}`).toEqual([403, 'Access denied']);
    }
    // carol administers carol-proj and handover; she cannot touch dave's projects.
    expect((await req('carol', 'POST', '/v1/projects/carol-proj/assignment', { user_id: ids.bob, is_project_admin: false })).statusCode).toBe(200);
    expect((await req('carol', 'POST', '/v1/projects/dave-1/assignment', { user_id: ids.bob, is_project_admin: false })).statusCode).toBe(404);
    expect((await req('carol', 'DELETE', '/v1/projects/dave-1')).statusCode).toBe(404);
  });

  it('admin applications: list, search, create; admins only', async () => {
    const c = await req('admin', 'POST', '/v1/admin/application', { name: 'legacy-app' });
    expect(c.json()).toEqual({ message: "Application name='legacy-app' has been created" });
    const dup = await req('admin', 'POST', '/v1/admin/application', { name: 'LEGACY-APP' });
    expect([dup.statusCode, err(dup).message]).toEqual([409, "Application 'legacy-app' already exists. Please choose a different name."]);
    const all = (await req('admin', 'GET', '/v1/admin/applications')).json().applications.map((a: any) => a.name);
    expect(all).toEqual(expect.arrayContaining(['legacy-app', 'demo', 'dave-1']));
    const found = (await req('admin', 'GET', '/v1/admin/applications?search=legacy-app')).json();
    expect(found.applications[0]).toEqual({ name: 'legacy-app', display_name: null, displayName: null });
    for (const [method, url] of [
      ['GET', '/v1/admin/applications'],
      ['POST', '/v1/admin/application'],
    ] as const) {
      const res = await req('audra', method, url, method === 'POST' ? { name: 'x-app' } : undefined);
      expect([res.statusCode, err(res)]).toEqual([
        403,
        {
          message: 'Access denied',
          details: 'This action requires administrator or maintainer privileges.',
          help: null,
        },
      ]);
    }
    expect((await req('admin', 'POST', '/v1/admin/application', { name: '' })).statusCode).toBe(422);
  });
});
