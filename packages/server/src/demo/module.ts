/**
 * First-run experience: on the very first start the platform seeds a "Hello" assistant in the
 * `demo` project on the default model (and, when the workflows module is present, a two-state
 * demo workflow), once; later starts leave them alone even if users delete them. Every start
 * prints, ready to paste, the token curl and the guide's /model curl for the demo assistant.
 */
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import { publicBaseUrl } from '../config/config.js';
import type { AssistantService } from '../assistants/service.js';
import type { WorkflowService } from '../workflows/service.js';
import type { AuthUser } from '../api/auth.js';


const SEED_KEY = 'demo.seeded';

interface Seeded {
  assistantId: string | null;
  workflowId: string | null;
}

const DEMO_WORKFLOW = `# Two states: the first drafts a plan for the request, the second checks it.
assistants:
  - id: planner
    system_prompt: You turn a request into a short numbered plan of at most three steps.
  - id: checker
    system_prompt: You review a plan and answer with the final plan and one line on its main risk.
states:
  - id: plan
    assistant_id: planner
    task: "Make a plan for: {{user_input}}"
    next:
      state_id: check
      output_key: plan
  - id: check
    assistant_id: checker
    task: "Review this plan: {{plan}}"
    next:
      state_id: end
`;

const SYSTEM: AuthUser = {
  id: 'system',
  username: 'system',
  name: 'CodeMie',
  email: '',
  roles: ['admin'],
  projects: ['demo'],
  adminProjects: ['demo'],
  isAdmin: true,
  userType: 'regular',
};

export function demoModule(
  infra: Infra,
  deps: { assistants: AssistantService; workflows: WorkflowService; generatedAdminPassword: () => string | undefined },
): Module<null> {
  const { config, settings } = infra;
  return {
    name: 'demo',
    services: null,
    async init() {
      if (config.seedDemo === false) return;
      // Once per installation, even with several processes starting at the same time.
      if (!(await settings.setIfAbsent(SEED_KEY, { assistantId: null, workflowId: null, at: new Date().toISOString() }))) return;
      const seeded: Seeded = { assistantId: null, workflowId: null };
      const a = await deps.assistants.create(
        {
          name: 'Hello',
          description: 'A friendly demo assistant on the default model.',
          system_prompt: 'You are a friendly assistant of the CodeMie platform. Answer briefly and helpfully.',
          project: 'demo',
          shared: true,
          slug: 'hello',
          conversation_starters: ['Say hello', 'What can you do?'],
          mcp_servers: [],
          toolkits: [],
          context: [],
          categories: [],
          is_react: true,
          assistant_ids: [],
        },
        SYSTEM,
      );
      seeded.assistantId = a.id;
      const wf = await deps.workflows.create(SYSTEM, {
        name: 'Hello workflow',
        description: 'A two-state demo: plan, then check.',
        project: 'demo',
        yaml_config: DEMO_WORKFLOW,
        shared: true,
        mode: 'Sequential',
      });
      seeded.workflowId = wf.id;
      await settings.set(SEED_KEY, { ...seeded, at: new Date().toISOString() });
    },
    async started() {
      if (config.seedDemo === false) return;
      const seeded = await settings.get<Seeded>(SEED_KEY);
      if (!seeded?.assistantId) return;
      const base = publicBaseUrl(config);
      const realm = config.idpRealm;
      // First start with a generated password: the curls carry it (it is printed above anyway), so they paste as they are.
      const pw = config.adminPassword ? '$CODEMIE_ADMIN_PASSWORD' : (deps.generatedAdminPassword() ?? '<the admin password printed at first start>');
      const lines = [
        '',
        'Try it:',
        `  TOKEN=$(curl -s -d grant_type=password -d client_id=codemie-sdk -d username=admin -d "password=${pw}" \\`,
        `    ${base}/auth/realms/${realm}/protocol/openid-connect/token | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')`,
        `  curl -X POST "${base}/code-assistant-api/v1/assistants/${seeded.assistantId}/model" \\`,
        `    -H "Content-Type: application/json" -H "Authorization: Bearer $TOKEN" -d '{"text": "hi"}'`,
        `  curl -N -X POST "${base}/code-assistant-api/v1/assistants/${seeded.assistantId}/model" \\`,
        `    -H "Content-Type: application/json" -H "Authorization: Bearer $TOKEN" -d '{"text": "hi", "stream": true}'`,
        ...(seeded.workflowId
          ? [
              `  curl -X POST "${base}/code-assistant-api/v1/workflows/${seeded.workflowId}/executions" \\`,
              `    -H "Content-Type: application/json" -H "Authorization: Bearer $TOKEN" -d '{"user_input": "Run deployment check", "tags": ["experiment", "customer_X"]}'`,
            ]
          : []),
        '',
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    },
  };
}
