/**
 * The triggers module: webhooks (`POST /v1/webhooks/{webhook_id}`) and schedules, both configured
 * as integrations (Webhook and Scheduler kinds) and both starting workflows or assistants as the
 * integration's owner. Adds the checks of those kinds to the integrations service (target in the
 * project, cron, time zone), so bad input is refused before anything is stored.
 */
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import type { IdentityRepo } from '../identity/repo.js';
import { ApiError } from '../api/errors.js';
import { stringValue, valueOf } from '../integrations/kinds.js';
import type { IntegrationsServices } from '../integrations/module.js';
import type { SettingInput } from '../integrations/service.js';
import type { TaskService } from '../tasks/service.js';
import type { WorkflowService } from '../workflows/service.js';
import { validateCron, validateTimezone } from './cron.js';
import type { AssistantsServices } from './deps.js';
import { Launcher } from './launch.js';
import { Scheduler } from './scheduler.js';
import { WebhookService, WindowCounter, webhookScope } from './webhooks.js';

export interface TriggersModuleDeps {
  integrations: IntegrationsServices;
  workflows: WorkflowService;
  assistants: AssistantsServices;
  tasks: TaskService;
  identity: IdentityRepo;
}

export interface TriggersServices {
  launcher: Launcher;
  webhooks: WebhookService;
  scheduler: Scheduler;
}

const RESOURCE_HELP = "Please provide a valid resource type (e.g., 'datasource', 'workflow', 'assistant').";

export function triggersModule(infra: Infra, deps: TriggersModuleDeps): Module<TriggersServices> {
  const { config, log } = infra;
  const integrations = deps.integrations.integrations;
  const launcher = new Launcher({
    workflows: deps.workflows,
    assistants: deps.assistants,
    tasks: deps.tasks,
    runs: infra.runs,
    fairUse: infra.fairUse,
    identity: deps.identity,
    adminRole: config.adminRole,
    auditorRole: config.auditorRole,
    log,
  });
  const webhooks = new WebhookService({
    db: infra.store.db,
    integrations,
    launcher,
    config,
    log,
    counter: new WindowCounter(infra.redis, 'codemie:webhook_rate_limit'),
    usage: infra.usage,
  });
  const scheduler = new Scheduler({ db: infra.store.db, integrations, launcher, config, log });

  /** The reference's validate_resource_type / _id / _ownership. */
  const checkTarget = async (input: SettingInput & { project_name: string }) => {
    const type = valueOf(input.credential_values, 'resource_type');
    if (type === undefined) throw new ApiError(422, 'Resource type is missing.', 'Please select a resource from the dropdown.', RESOURCE_HELP);
    const id = stringValue(input.credential_values, 'resource_id');
    if (!id) {
      throw new ApiError(
        422,
        'Cannot process the resource ID',
        'An error occurred while trying to validate the resource ID: The resource ID is missing.',
        'Please provide a valid resource ID to proceed.',
      );
    }
    if (type !== 'workflow' && type !== 'assistant') {
      const details =
        type === 'datasource'
          ? 'Datasource triggers are not supported on this server yet: use a workflow or an assistant.'
          : `The resource type '${String(type)}' is not recognized.`;
      throw new ApiError(422, 'Invalid resource type', details, RESOURCE_HELP);
    }
    if (!(await launcher.belongs(type, id, input.project_name))) {
      const label = type === 'workflow' ? 'Workflow' : 'Assistant';
      throw new ApiError(
        404,
        `${label} not found`,
        `The ${type} with ID '${id}' could not be found in '${input.project_name}' project.`,
        `Please ensure the ${type} belongs to the specified project.`,
      );
    }
  };
  integrations.useValidator('Webhook', checkTarget);
  integrations.useValidator('Scheduler', async (input) => {
    await checkTarget(input);
    validateCron(valueOf(input.credential_values, 'schedule'), config.scheduleMinIntervalSeconds);
    const tz = valueOf(input.credential_values, 'timezone');
    if (typeof tz === 'string') validateTimezone(tz);
  });
  deps.integrations.useTester('Webhook', async () => [true, 'Webhook configuration is valid']);
  deps.integrations.useTester('Scheduler', async (values) => {
    validateCron(valueOf(values, 'schedule'), config.scheduleMinIntervalSeconds);
    const tz = valueOf(values, 'timezone');
    if (typeof tz === 'string') validateTimezone(tz);
    return [true, 'Schedule is valid'];
  });
  integrations.onChange((c) => {
    if (c.credentialType === 'Scheduler' && config.schedulerEnabled) void scheduler.sync().catch((err) => log.error({ err }, 'schedule sync failed'));
  });

  return {
    name: 'triggers',
    services: { launcher, webhooks, scheduler },
    scopes: [webhookScope(webhooks)],
    async started() {
      if (!config.schedulerEnabled) return;
      await scheduler.start();
      infra.onClose.push(() => scheduler.stop());
    },
  };
}
