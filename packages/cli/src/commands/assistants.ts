import type { Command } from 'commander';
import type { StreamChunk, Thought } from 'codemie-sdk';
import { CliError } from '../errors.js';
import { action, connectFor } from '../api/client.js';
import { dim, printJson, table, wantsJson } from '../api/output.js';

const ANSWER_AUTHOR = 'Codemie Thoughts';
const clip = (v: unknown, n = 200) => {
  const t = (typeof v === 'string' ? v : JSON.stringify(v ?? '')).replace(/\s+/g, ' ').trim();
  return t.length > n ? `${t.slice(0, n - 1)}…` : t;
};

/** A tool thought as a line for stderr: its call (in progress, with the arguments) or its result. */
function thoughtLine(t: Thought, phase: 'start' | 'end' | 'both'): string[] {
  if (!t || t.author_name === ANSWER_AUTHOR) return [];
  const who = t.author_name || t.author_type || 'tool';
  const lines: string[] = [];
  if ((phase === 'start' || phase === 'both') && t.input_text) lines.push(`[${who}] ${clip(t.input_text)}`);
  if ((phase === 'end' || phase === 'both') && !t.in_progress) lines.push(`[${who}] ${t.error ? 'failed: ' : '→ '}${clip(t.message)}`);
  return lines;
}

function printThoughts(lines: string[]): void {
  for (const l of lines) process.stderr.write(`${dim(l)}\n`);
}

/** `codemie assistants list | create | chat` through the Node SDK. */
export function register(program: Command): void {
  const assistants = program.command('assistants').description('assistants: list, create, chat').option('--profile <name>', 'profile name').option('--json', 'machine-readable output');

  assistants
    .command('list')
    .description('assistants visible to you (id, name, project, model)')
    .option('--project <project>', 'only this project')
    .option('--search <text>', 'name contains')
    .option('--per-page <n>', 'how many', '100')
    .option('--json', 'machine-readable output')
    .action(
      action(async (opts: { project?: string; search?: string; perPage: string }, cmd: Command) => {
        const client = await connectFor(cmd);
        const filters: Record<string, unknown> = {};
        if (opts.project) filters.project = opts.project;
        if (opts.search) filters.search = opts.search;
        const list = await client.assistants.list({ per_page: Number(opts.perPage) || 100, filters: Object.keys(filters).length ? filters : undefined });
        if (wantsJson(cmd)) return printJson(list);
        const rows = list.map((a) => ({ id: a.id, name: a.name, project: a.project, model: (a as { llm_model_type?: string }).llm_model_type ?? '' }));
        process.stdout.write(rows.length ? table(rows, ['id', 'name', 'project', 'model']) : 'no assistants\n');
      }),
    );

  assistants
    .command('create')
    .description('create an assistant; prints its id')
    .requiredOption('--name <name>', 'name')
    .requiredOption('--system-prompt <prompt>', 'system prompt')
    .option('--model <model>', 'LLM model (base name; default: the server default)')
    .option('--project <project>', 'project', 'demo')
    .option('--description <text>', 'description')
    .option('--json', 'machine-readable output')
    .action(
      action(async (opts: { name: string; systemPrompt: string; model?: string; project: string; description?: string }, cmd: Command) => {
        const client = await connectFor(cmd);
        const res = await client.assistants.create({
          name: opts.name,
          system_prompt: opts.systemPrompt,
          description: opts.description ?? opts.name,
          llm_model_type: opts.model,
          project: opts.project,
        });
        const id = res.assistantId ?? (res as { id?: string }).id;
        if (!id) throw new CliError(`the server did not return the new assistant's id (${res.message ?? 'no message'})`);
        if (wantsJson(cmd)) printJson({ id, message: res.message });
        else process.stdout.write(`${id}\n`);
      }),
    );

  assistants
    .command('chat <id> <text>')
    .description('ask an assistant; the answer is streamed as it is generated (tool thoughts dimmed on stderr)')
    .option('--model <model>', 'LLM model for this call')
    .option('--conversation <id>', 'conversation id (continue a conversation)')
    .option('--no-stream', 'wait for the whole answer')
    .option('--json', 'machine-readable output (the whole answer as JSON; with streaming, one JSON chunk per line)')
    .action(
      action(async (id: string, text: string, opts: { model?: string; conversation?: string; stream: boolean }, cmd: Command) => {
        const client = await connectFor(cmd);
        const json = wantsJson(cmd);
        const params = { text, llm_model: opts.model, conversation_id: opts.conversation };
        if (!opts.stream) {
          const res = await client.assistants.chat(id, { ...params, stream: false });
          if (json) {
            printJson(res);
            if (res.success === false) process.exitCode = 1;
            return;
          }
          for (const t of res.thoughts ?? []) printThoughts(thoughtLine(t, 'both'));
          if (res.success === false) throw new CliError(typeof res.generated === 'string' ? res.generated : 'the assistant call failed');
          const out = typeof res.generated === 'string' ? res.generated : JSON.stringify(res.generated, null, 2);
          process.stdout.write(`${out ?? ''}\n`);
          return;
        }
        const stream = await client.assistants.chat(id, { ...params, stream: true });
        let printed = '';
        let error: string | null = null;
        for await (const chunk of stream as AsyncIterable<StreamChunk>) {
          const failed = chunk.last && (chunk.success === false || !!chunk.execution_error);
          if (failed) error = typeof chunk.generated === 'string' && chunk.generated ? chunk.generated : String(chunk.execution_error ?? 'the assistant call failed');
          if (json) {
            process.stdout.write(`${JSON.stringify(chunk)}\n`);
            continue;
          }
          if (chunk.thought) printThoughts(thoughtLine(chunk.thought, chunk.thought.in_progress ? 'start' : 'end'));
          if (chunk.generated_chunk) {
            process.stdout.write(chunk.generated_chunk);
            printed += chunk.generated_chunk;
          }
          if (chunk.last && !failed) {
            // the final chunk carries the whole answer: print what the chunks did not (e.g. structured output)
            const g = chunk.generated;
            if (typeof g === 'string' && g.startsWith(printed) && g.length > printed.length) process.stdout.write(g.slice(printed.length));
            else if (g && typeof g === 'object') process.stdout.write(JSON.stringify(g, null, 2));
          }
        }
        if (!json && (printed || !error)) process.stdout.write('\n');
        if (error) throw new CliError(error.split('\n')[0]!);
      }),
    );
}
