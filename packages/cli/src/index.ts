#!/usr/bin/env node
/**
 * The `codemie` command. Each command group lives in commands/<group>.ts and exports
 * `register(program)`; add a group by adding one line below.
 */
import { Command } from 'commander';
import { register as registerKeycloak } from './commands/keycloak.js';
import { register as registerServe } from './commands/serve.js';
import { register as registerIdp } from './commands/idp.js';
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

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CliError) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
