import type { Command } from 'commander';
import { action, connectFor } from '../api/client.js';
import { printJson, table, wantsJson } from '../api/output.js';
import { allStates, follow } from './workflows.js';

/** `codemie executions get | abort | resume` through the Node SDK. */
export function register(program: Command): void {
  const executions = program.command('executions').description('workflow executions: get, abort, resume').option('--profile <name>', 'profile name').option('--json', 'machine-readable output');

  executions
    .command('get <workflowId> <executionId>')
    .description('status, output and states of an execution')
    .option('--json', 'machine-readable output')
    .action(
      action(async (workflowId: string, executionId: string, _opts: unknown, cmd: Command) => {
        const client = await connectFor(cmd);
        const exec = await client.executions.get(workflowId, executionId);
        const states = await allStates(client, workflowId, executionId);
        if (wantsJson(cmd)) return printJson({ ...exec, states });
        process.stdout.write(`execution ${exec.execution_id}: ${exec.overall_status}\n`);
        if (states.length) process.stdout.write(table(states.map((s) => ({ state: s.name ?? s.state_id, status: s.status, started: s.started_at, completed: s.completed_at })), ['state', 'status', 'started', 'completed']));
        if (exec.output) process.stdout.write(`output:\n${exec.output}\n`);
      }),
    );

  executions
    .command('abort <workflowId> <executionId>')
    .description('abort a running execution')
    .option('--json', 'machine-readable output')
    .action(
      action(async (workflowId: string, executionId: string, _opts: unknown, cmd: Command) => {
        const client = await connectFor(cmd);
        const res = await client.executions.abort(workflowId, executionId);
        if (wantsJson(cmd)) printJson(res);
        else process.stdout.write(`${res.message ?? 'aborted'}\n`);
      }),
    );

  executions
    .command('resume <workflowId> <executionId>')
    .description('resume an interrupted execution and follow it to its end')
    .option('--input <text>', 'your answer (merged into the context)')
    .option('--detach', 'return once resumed, without following')
    .option('--json', 'machine-readable output')
    .action(
      action(async (workflowId: string, executionId: string, opts: { input?: string; detach?: boolean }, cmd: Command) => {
        const client = await connectFor(cmd);
        const json = wantsJson(cmd);
        const before = opts.detach ? [] : await allStates(client, workflowId, executionId);
        const res = await client.executions.resume(workflowId, executionId, { userInput: opts.input });
        if (opts.detach) {
          if (json) printJson(res);
          else process.stdout.write(`${res.message ?? 'resumed'}\n`);
          return;
        }
        if (!json) process.stderr.write(`execution ${executionId} resumed\n`);
        await follow(client, workflowId, executionId, json, new Map(before.map((s) => [s.id, s.status])));
      }),
    );
}
