/** Test harness for the workflows suites: a platform wired to the test LLM server, plus API helpers. */
import type { AuthUser } from '../src/api/auth.js';
import { startTestPlatform, tempDir, testAuthHeaders, type DbKind, type TestPlatform } from './helpers.js';
import { startTestLlmServer, writeTestModelsFile, type TestLlmServer } from './llm-server.js';
import type { Infra } from '../src/infra.js';
import type { ModuleOverrides } from '../src/modules.js';

export const alice: Partial<AuthUser> = { id: 'alice', username: 'alice', projects: ['demo'] };
export const bob: Partial<AuthUser> = { id: 'bob', username: 'bob', projects: ['demo'] };
export const eve: Partial<AuthUser> = { id: 'eve', username: 'eve', projects: ['other'] };

export interface WorkflowEnv {
  platform: TestPlatform;
  llm: TestLlmServer;
  dataDir: string;
  api<T = any>(
    method: string,
    url: string,
    body?: unknown,
    user?: Partial<AuthUser> | null,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: T; text: string }>;
  createWorkflow(yaml: string, user?: Partial<AuthUser>, extra?: Record<string, unknown>): Promise<string>;
  execute(workflowId: string, body?: Record<string, unknown>, user?: Partial<AuthUser>): Promise<any>;
  waitFor(workflowId: string, executionId: string, statuses: string[], timeoutMs?: number): Promise<any>;
  states(workflowId: string, executionId: string): Promise<any[]>;
  /** Stops the platform (keeps the data dir and LLM server for a restart). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startWorkflowEnv(
  opts: {
    db?: DbKind;
    llm?: TestLlmServer;
    instant?: boolean;
    module?: (infra: Infra) => NonNullable<ModuleOverrides['workflows']>;
    env?: Record<string, string>;
    listen?: boolean;
  } = {},
): Promise<WorkflowEnv> {
  const llm = opts.llm ?? (await startTestLlmServer({ instant: opts.instant }));
  const tmp = tempDir('codemie-wf-');
  const models = writeTestModelsFile(llm, tmp.dir);
  let pgUrl: string | undefined;
  let dropPg: (() => Promise<void>) | undefined;
  if (opts.db === 'postgres') {
    const { freshPostgres } = await import('./helpers.js');
    const pg = await freshPostgres();
    pgUrl = pg.url;
    dropPg = pg.drop;
  }
  const start = () =>
    startTestPlatform({
      testAuth: true,
      listen: opts.listen ?? true,
      env: {
        ...models.env,
        CODEMIE_LLM_MAX_RETRIES: '0',
        CODEMIE_SHUTDOWN_TIMEOUT_MS: '400',
        CODEMIE_DATA_DIR: tmp.dir,
        ...(pgUrl ? { DATABASE_URL: pgUrl } : {}),
        ...opts.env,
      },
      overrides: opts.module ? (infra) => ({ workflows: opts.module!(infra) }) : undefined,
    });
  const env: WorkflowEnv = {
    platform: await start(),
    llm,
    dataDir: tmp.dir,
    async api(method, url, body, user = alice, headers = {}) {
      const res = await env.platform.app.inject({
        method: method as 'GET',
        url,
        headers: { ...(user ? testAuthHeaders(user) : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        payload: body !== undefined ? JSON.stringify(body) : undefined,
      });
      let parsed: any = null;
      try {
        parsed = res.json();
      } catch {
        parsed = null;
      }
      return { status: res.statusCode, body: parsed, text: res.body };
    },
    async createWorkflow(yaml, user = alice, extra = {}) {
      const r = await env.api('POST', '/v1/workflows', { name: 'wf', description: 'test', project: 'demo', yaml_config: yaml, ...extra }, user);
      if (r.status !== 200) throw new Error(`create failed: ${r.status} ${r.text}`);
      return r.body.data.id as string;
    },
    async execute(workflowId, body = {}, user = alice) {
      const r = await env.api('POST', `/v1/workflows/${workflowId}/executions`, body, user);
      if (r.status !== 200) throw new Error(`execute failed: ${r.status} ${r.text}`);
      return r.body;
    },
    async waitFor(workflowId, executionId, statuses, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const r = await env.api('GET', `/v1/workflows/${workflowId}/executions/${executionId}`);
        if (statuses.includes(r.body?.overall_status)) return r.body;
        if (Date.now() > until) throw new Error(`execution stayed ${r.body?.overall_status} (${r.text})`);
        await new Promise((res) => setTimeout(res, 20));
      }
    },
    async states(workflowId, executionId) {
      const r = await env.api('GET', `/v1/workflows/${workflowId}/executions/${executionId}/states?per_page=100`);
      return r.body.data;
    },
    async restart() {
      await env.platform.close();
      env.platform = await start();
    },
    async close() {
      await env.platform.close();
      await dropPg?.();
      if (!opts.llm) await llm.close();
      tmp.cleanup();
    },
  };
  return env;
}
