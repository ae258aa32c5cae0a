import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError, CodeMieApiError, CodeMieAuthError, CodeMieClient, CodeMieError, NotFoundError, parseErrorBody } from './index.js';
import { send, startFake, type FakePlatform } from './test-support/fake-server.js';

let fake: FakePlatform;
let client: CodeMieClient;

beforeEach(async () => {
  fake = await startFake();
  // no login: these routes are public, so the tests look at error parsing only
  client = new CodeMieClient({ codemie_api_domain: fake.apiDomain });
});

afterEach(async () => {
  await fake.stop();
});

function failWith(status: number, body: unknown, headers: Record<string, string> = {}): void {
  fake.route('GET', '/v1/llm_models', (_req, res) => send(res, status, body, headers), { auth: false });
}

describe('API errors', () => {
  it('reads the platform envelope, and the request id header', async () => {
    failWith(403, { error: { message: 'Access denied', details: "You do not have permission to access the project 'x'.", help: 'Ask an admin' } }, { 'X-Request-ID': 'rid-1' });
    const err = await client.llms.list().catch((e) => e);
    expect(err).toBeInstanceOf(CodeMieApiError);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toBeInstanceOf(CodeMieError);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(NotFoundError);
    expect(err).not.toBeInstanceOf(CodeMieAuthError);
    expect(err.name).toBe('CodeMieApiError');
    expect(err.status).toBe(403);
    expect(err.statusCode).toBe(403);
    expect(err.message).toBe('Access denied');
    expect(err.details).toBe("You do not have permission to access the project 'x'.");
    expect(err.help).toBe('Ask an admin');
    expect(err.requestId).toBe('rid-1');
    expect(err.method).toBe('GET');
    expect(err.url).toBe(`${fake.apiDomain}/v1/llm_models`);
  });

  it('keeps structured details (422 validation)', async () => {
    const details = [{ type: 'missing', loc: ['body', 'name'], msg: 'Field required' }];
    failWith(422, { error: { message: 'name: Field required', details } });
    const err = await client.llms.list().catch((e) => e);
    expect(err.status).toBe(422);
    expect(err.message).toBe('name: Field required');
    expect(err.details).toEqual(details);
    expect(err.help).toBeNull();
  });

  it('404 is a NotFoundError', async () => {
    failWith(404, { error: { message: 'Assistant not found', details: null, help: null } });
    const err = await client.llms.list().catch((e) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toBeInstanceOf(CodeMieApiError);
    expect(err.name).toBe('NotFoundError');
  });

  it('tolerates {"detail": ...} bodies (string and list)', async () => {
    failWith(429, { detail: 'Too many requests' }, { 'Retry-After': '3' });
    let err = await client.llms.list().catch((e) => e);
    expect(err.status).toBe(429);
    expect(err.message).toBe('Too many requests');
    failWith(422, { detail: [{ msg: 'a is wrong' }, { msg: 'b is wrong' }] });
    err = await client.llms.list().catch((e) => e);
    expect(err.message).toBe('a is wrong; b is wrong');
    expect(err.details).toEqual([{ msg: 'a is wrong' }, { msg: 'b is wrong' }]);
  });

  it('uses plain-text bodies and falls back to the status line', async () => {
    failWith(502, 'Bad gateway from proxy');
    let err = await client.llms.list().catch((e) => e);
    expect(err.status).toBe(502);
    expect(err.message).toBe('Bad gateway from proxy');
    fake.route('GET', '/v1/llm_models', (_req, res) => { res.writeHead(500); res.end(); }, { auth: false });
    err = await client.llms.list().catch((e) => e);
    expect(err.status).toBe(500);
    expect(err.message).toBe('500 Internal Server Error');
  });

  it('reads the MCP authentication_required payload', async () => {
    failWith(401, { error: 'authentication_required', servers: [{ name: 'github' }] });
    const err = await client.llms.list().catch((e) => e);
    expect(err).toBeInstanceOf(CodeMieAuthError);
    expect(err.code).toBe('authentication_required');
    expect(err.details).toEqual({ servers: [{ name: 'github' }] });
  });

  it('network failures are CodeMieError, not API errors', async () => {
    const port = fake.port;
    await fake.stop();
    const c = new CodeMieClient({ codemie_api_domain: `http://127.0.0.1:${port}/code-assistant-api` });
    const err = await c.llms.list().catch((e) => e);
    expect(err).toBeInstanceOf(CodeMieError);
    expect(err).not.toBeInstanceOf(CodeMieApiError);
    expect(err.message).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/code-assistant-api\/v1\/llm_models failed/);
    fake = await startFake(); // for afterEach
  });
});

describe('parseErrorBody', () => {
  it('covers every shape', () => {
    expect(parseErrorBody({ error: { message: 'm', details: { a: 1 }, help: 'h' } }, 'f')).toEqual({ message: 'm', details: { a: 1 }, help: 'h', code: null });
    expect(parseErrorBody({ error: 'invalid_grant', error_description: 'Invalid user credentials' }, 'f')).toEqual({ message: 'Invalid user credentials', details: null, help: null, code: 'invalid_grant' });
    expect(parseErrorBody({ error: 'invalid_client' }, 'f')).toEqual({ message: 'invalid_client', details: null, help: null, code: 'invalid_client' });
    expect(parseErrorBody({ detail: 'Not Found' }, 'f').message).toBe('Not Found');
    expect(parseErrorBody({ message: 'plain' }, 'f').message).toBe('plain');
    expect(parseErrorBody({ other: 1 }, 'f')).toEqual({ message: 'f', details: { other: 1 }, help: null, code: null });
    expect(parseErrorBody('', 'f').message).toBe('f');
    expect(parseErrorBody(null, 'f').message).toBe('f');
  });
});
