#!/usr/bin/env node
/**
 * The `codemie` command. Each command group lives in commands/<group>.ts and exports
 * `register(program)`; add a group by adding one line below.
 */
import { Command, CommanderError } from 'commander';
import { register as registerKeycloak } from './commands/keycloak.js';
import { register as registerServe } from './commands/serve.js';
import { register as registerIdp } from './commands/idp.js';
import { register as registerModels } from './commands/models.js';
import { register as registerLogin } from './commands/login.js';
import { register as registerAssistants } from './commands/assistants.js';
import { register as registerWorkflows } from './commands/workflows.js';
import { register as registerExecutions } from './commands/executions.js';
import { register as registerSecrets } from './commands/secrets.js';
import { CliError } from './errors.js';

const program = new Command();
program
  .name('codemie')
  .description('CodeMie Open: run the platform and talk to it')
  .version('0.1.0')
  .showHelpAfterError();

registerServe(program);
registerIdp(program);
registerKeycloak(program);
registerModels(program);
registerLogin(program);
registerAssistants(program);
registerWorkflows(program);
registerExecutions(program);
registerSecrets(program);

// Usage errors (unknown option, missing argument...) exit with 2; help and version with 0.
const overrideExit = (c: Command): void => {
  c.exitOverride();
  c.commands.forEach(overrideExit);
};
overrideExit(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  if (err instanceof CliError) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
