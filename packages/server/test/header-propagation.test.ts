/**
 * The guide's "Example with Header Propagation" against a started server: the test LLM calls an
 * MCP tool; the MCP servers (streamable HTTP and stdio) receive X-Tenant-ID, X-Correlation-ID
 * and X-User-Context — and never Authorization or Cookie; nothing reaches the LLM provider.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, tempDir, type TestPlatform } from './helpers.js';
import { authHeaders, createUser, passwordToken } from './identity-helpers.js';
import { startTestLlmServer, writeTestModelsFile, type TestLlmServer } from './llm-server.js';
import { startRecordingHttpServer, type McpHttpServer } from './mcp-servers/recording.mjs';

const RECORDING = path.join(path.dirname(fileURLToPath(import.meta.url)), 'mcp-servers', 'recording.mjs');

let llm: TestLlmServer;
let mcpHttp: McpHttpServer;
let p: TestPlatform;
let token: string;
let assistantId: string;
const tmp = tempDir();

beforeAll(async () => {
  llm = await startTestLlmServer();
  mcpHttp = await startRecordingHttpServer();
  const { env } = writeTestModelsFile(llm, tmp.dir);
  p = await startTestPlatform({ env: { ...env, CODEMIE_LLM_MAX_RETRIES: '0' }, listen: true });
  await createUser(p, { username: 'devon', projects: ['demo'] });
  token = await passwordToken(p, 'devon');
  const res = await fetch(`${p.url}/v1/assistants`, {
    method: 'POST',
    headers: { ...authHeaders(token), 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'Deployments',
      description: 'lists deployments',
      system_prompt: 'Use the tools.',
      project: 'demo',
      mcp_servers: [
        { name: 'rec-http', config: { url: mcpHttp.url, type: 'streamable-http' } },
        { name: 'rec-stdio', config: { command: 'node', args: [RECORDING, 'stdio'] } },
      ],
    }),
  });
  expect(res.status).toBe(200);
  assistantId = ((await res.json()) as { assistantId: string }).assistantId;
});
afterAll(async () => {
  await p.stop();
  await mcpHttp.close();
  await llm.close();
  tmp.cleanup();
});

/** The guide's curl, verbatim headers. */
function guideCurl(propagate: boolean) {
  return fetch(`${p.url}/code-assistant-api/v1/assistants/${assistantId}/chat`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Authorization: `Bearer ${token}`,
      'X-Tenant-ID': 'acme-corp',
      'X-Correlation-ID': 'trace-123',
      'X-User-Context': 'engineering-team',
      Cookie: 'session=secret-cookie',
    },
    body: JSON.stringify({ text: 'List all deployments in production environment', propagate_headers: propagate }),
  });
}

function toolCallsSince(n: number) {
  return mcpHttp.requests.slice(n).filter((r) => r.rpcMethod === 'tools/call');
}

describe('header propagation (guide example)', () => {
  it('streamable HTTP: the three X-* headers reach the MCP server on the tool call; Authorization and Cookie do not', async () => {
    const before = mcpHttp.requests.length;
    llm.script({ toolCalls: [{ name: 'whoami', arguments: {} }] }, { text: 'There are 3 deployments.' });
    const res = await guideCurl(true);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { generated: string; thoughts: { author_name: string; message: string; error: boolean }[] };
    expect(body.generated).toBe('There are 3 deployments.');
    const call = toolCallsSince(before);
    expect(call).toHaveLength(1);
    expect(call[0].headers).toMatchObject({ 'x-tenant-id': 'acme-corp', 'x-correlation-id': 'trace-123', 'x-user-context': 'engineering-team' });
    expect(call[0].headers.authorization).toBeUndefined();
    expect(call[0].headers.cookie).toBeUndefined();
    expect(body.thoughts.find((t) => t.author_name === 'Whoami')?.error).toBe(false);
    // Never to the LLM provider.
    const toLlm = llm.chatRequests().slice(-2);
    for (const r of toLlm) expect(Object.keys(r.headers).filter((h) => h.startsWith('x-tenant') || h.startsWith('x-user-context'))).toEqual([]);
  });

  it('stdio: the headers arrive in _meta of the tool call', async () => {
    llm.script({ toolCalls: [{ name: 'rec-stdio_whoami', arguments: {} }] }, { text: 'ok' });
    const res = await guideCurl(true);
    const body = (await res.json()) as { thoughts: { author_name: string; message: string }[] };
    const out = body.thoughts.find((t) => t.author_name === 'Rec-Stdio Whoami')!.message;
    expect(JSON.parse(out).meta.headers).toMatchObject({ 'x-tenant-id': 'acme-corp', 'x-correlation-id': 'trace-123', 'x-user-context': 'engineering-team' });
    expect(out).not.toContain('secret-cookie');
  });

  it('without propagate_headers nothing is forwarded', async () => {
    const before = mcpHttp.requests.length;
    llm.script({ toolCalls: [{ name: 'whoami', arguments: {} }] }, { text: 'ok' });
    expect((await guideCurl(false)).status).toBe(200);
    const call = toolCallsSince(before);
    expect(call).toHaveLength(1);
    expect(call[0].headers['x-tenant-id']).toBeUndefined();
  });

  it('too many X-* headers → 400 before anything runs', async () => {
    const many: Record<string, string> = { ...authHeaders(token), 'content-type': 'application/json' };
    for (let i = 0; i < 40; i++) many[`x-extra-${i}`] = 'v';
    const res = await fetch(`${p.url}/v1/assistants/${assistantId}/model`, { method: 'POST', headers: many, body: JSON.stringify({ text: 'hi', propagate_headers: true }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe('Too many headers to propagate');
  });
});
