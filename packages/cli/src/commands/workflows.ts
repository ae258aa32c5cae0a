import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { CodeMieClient, WorkflowExecution, WorkflowExecutionState } from 'codemie-sdk';
import { CliError } from '../errors.js';
import { action, connectFor } from '../api/client.js';
import { printJson, table, wantsJson } from '../api/output.js';

const RUNNING = ['In Progress', 'Not Started'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every state of an execution (the API pages by at most 100). */
export async function allStates(client: CodeMieClient, workflowId: string, executionId: string): Promise<WorkflowExecutionState[]> {
  const out: WorkflowExecutionState[] = [];
  for (let page = 0; page < 100; page++) {
    const items = await client.executions.states(workflowId, executionId, { page, per_page: 100 });
    out.push(...items);
    if (items.length < 100) break;
  }
  return out;
}

function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

/**
 * Follows an execution by polling its states: prints "state X started" / "state X finished: <status>" lines
 * as they happen, then the final output. Exit code: 0 Succeeded, 1 Failed/Aborted, 4 Interrupted.
 */
export async function follow(
  client: CodeMieClient,
  workflowId: string,
  executionId: string,
  json: boolean,
  /** states already reported (id → status), e.g. before a resume */
  seen = new Map<string, string>(),
  intervalMs = 300,
): Promise<void> {
  const log = (line: string) => {
    if (!json) process.stderr.write(`${line}\n`);
  };
  let exec: WorkflowExecution;
  for (;;) {
    exec = await client.executions.get(workflowId, executionId);
    const states = await allStates(client, workflowId, executionId);
    const ordered = [...states].sort((a, b) => String(a.started_at ?? a.date ?? '').localeCompare(String(b.started_at ?? b.date ?? '')));
    for (const s of ordered) {
      const name = s.name ?? s.state_id ?? s.id;
      const before = seen.get(s.id);
      if (before === s.status) continue;
      if (before === undefined) log(`▶ state ${name} started`);
      else if (RUNNING.includes(s.status) && !RUNNING.includes(before)) log(`▶ state ${name} resumed`);
      if (!RUNNING.includes(s.status)) {
        const err = (s as { error?: string | null }).error;
        log(`${s.status === 'Succeeded' ? '✔' : s.status === 'Interrupted' ? '⏸' : '✖'} state ${name} finished: ${s.status}${err ? ` (${err})` : ''}`);
      }
      seen.set(s.id, s.status);
    }
    if (!RUNNING.includes(exec.overall_status)) break;
    await sleep(intervalMs);
  }
  const status = exec.overall_status;
  if (json) printJson(exec);
  if (status === 'Succeeded') {
    if (!json) process.stdout.write(`${exec.output ?? ''}\n`);
    return;
  }
  if (status === 'Interrupted') {
    if (!json) {
      process.stderr.write(
        `execution ${executionId} is waiting for input: resume it with\n  codemie executions resume ${workflowId} ${executionId} [--input TEXT]\n`,
      );
    }
    throw new CliError(`execution interrupted`, 4);
  }
  const reason = status === 'Aborted' ? 'aborted' : (exec.output ?? 'no reason given');
  throw new CliError(`execution ${status.toLowerCase()}: ${reason}`, 1);
}

/** `codemie workflows list | create | run` through the Node SDK. */
export function register(program: Command): void {
  const workflows = program.command('workflows').description('workflows: list, create from YAML, run').option('--profile <name>', 'profile name').option('--json', 'machine-readable output');

  workflows
    .command('list')
    .description('workflows visible to you')
    .option('--project <project>', 'only this project')
    .option('--search <text>', 'name contains')
    .option('--per-page <n>', 'how many', '100')
    .option('--json', 'machine-readable output')
    .action(
      action(async (opts: { project?: string; search?: string; perPage: string }, cmd: Command) => {
        const client = await connectFor(cmd);
        const list = await client.workflows.list({ per_page: Number(opts.perPage) || 100, projects: opts.project ? [opts.project] : undefined, search: opts.search });
        if (wantsJson(cmd)) return printJson(list);
        const rows = list.map((w) => ({ id: w.id, name: w.name, project: w.project, mode: w.mode }));
        process.stdout.write(rows.length ? table(rows, ['id', 'name', 'project', 'mode']) : 'no workflows\n');
      }),
    );

  workflows
    .command('create')
    .description('create a workflow from a YAML file; prints its id')
    .requiredOption('-f, --file <file>', 'workflow YAML')
    .requiredOption('--name <name>', 'name')
    .option('--project <project>', 'project', 'demo')
    .option('--description <text>', 'description')
    .option('--json', 'machine-readable output')
    .action(
      action(async (opts: { file: string; name: string; project: string; description?: string }, cmd: Command) => {
        let yaml: string;
        try {
          yaml = readFileSync(opts.file, 'utf8');
        } catch (err) {
          throw new CliError(`cannot read ${opts.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 2);
        }
        const client = await connectFor(cmd);
        const res = await client.workflows.create({ name: opts.name, project: opts.project, description: opts.description ?? opts.name, yaml_config: yaml, mode: 'Sequential' });
        const id = res.data?.id ?? (res as { id?: string }).id;
        if (!id) throw new CliError(`the server did not return the new workflow's id (${res.message ?? 'no message'})`);
        if (wantsJson(cmd)) printJson(res.data ?? { id });
        else process.stdout.write(`${id}\n`);
      }),
    );

  workflows
    .command('run <id>')
    .description('start an execution and follow it: state progress on stderr, the final output on stdout')
    .option('--input <text>', 'user input')
    .option('--tag <tag>', 'tag (repeatable)', collect)
    .option('--session <id>', 'session id')
    .option('--detach', 'print the execution id and return without waiting')
    .option('--json', 'machine-readable output (the final execution record)')
    .action(
      action(async (id: string, opts: { input?: string; tag?: string[]; session?: string; detach?: boolean }, cmd: Command) => {
        const client = await connectFor(cmd);
        const json = wantsJson(cmd);
        const exec = await client.workflows.run(id, opts.input, undefined, opts.session, undefined, undefined, opts.tag);
        if (opts.detach) {
          if (json) printJson(exec);
          else process.stdout.write(`${exec.execution_id}\n`);
          return;
        }
        if (!json) process.stderr.write(`execution ${exec.execution_id} started\n`);
        await follow(client, id, exec.execution_id, json);
      }),
    );
}
