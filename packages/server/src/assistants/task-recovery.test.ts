/** A background task survives a server restart: it is re-run, never left STARTED. */
import { describe, expect, it } from 'vitest';
import { startTestPlatform, tempDir } from '../../test/helpers.js';
import { authHeaders, createUser, passwordToken } from '../../test/identity-helpers.js';
import { startTestLlmServer, writeTestModelsFile } from '../../test/llm-server.js';

describe('background task across a restart', () => {
  it('a task in flight at shutdown is re-run on the next start and completes', async () => {
    const llm = await startTestLlmServer();
    const data = tempDir();
    const { env } = writeTestModelsFile(llm, data.dir);
    const shared = { ...env, CODEMIE_DATA_DIR: data.dir, CODEMIE_LLM_MAX_RETRIES: '0', CODEMIE_SHUTDOWN_TIMEOUT_MS: '400' };
    try {
      const first = await startTestPlatform({ env: shared, listen: true });
      await createUser(first, { username: 'tess', projects: ['demo'] });
      const h = authHeaders(await passwordToken(first, 'tess'));
      const created = await first.app.inject({ method: 'POST', url: '/v1/assistants', headers: h, payload: { name: 'T', description: '', system_prompt: 'x', project: 'demo' } });
      const id = created.json().assistantId;
      llm.script({ hang: true }, { text: 'finished after restart' });
      const res = await first.app.inject({ method: 'POST', url: `/v1/assistants/${id}/model`, headers: h, payload: { text: 'long job', background_task: true } });
      const taskId = res.json().taskId;
      while (llm.chatRequests().length === 0) await new Promise((r) => setTimeout(r, 20));
      await first.close(); // shutdown: the run is signalled and left STARTED for recovery

      const second = await startTestPlatform({ env: shared, listen: true });
      const h2 = authHeaders(await passwordToken(second, 'tess'));
      let task;
      for (let i = 0; i < 200; i++) {
        task = (await second.app.inject({ method: 'GET', url: `/v1/tasks/${taskId}`, headers: h2 })).json();
        if (task.status !== 'STARTED') break;
        await new Promise((r) => setTimeout(r, 30));
      }
      expect(task).toMatchObject({ status: 'COMPLETED', final_output: 'finished after restart' });
      await second.close();
    } finally {
      await llm.close();
      data.cleanup();
    }
  });
});
