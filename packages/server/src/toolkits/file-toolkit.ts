/**
 * File management in the conversation's workspace (workspace.ts): read, write, list, diff and
 * search. Tool names follow the reference's FileSystem toolkit where it has the tool.
 */
import { ToolFailure, type BuiltinTool, type BuiltinToolkit } from './types.js';
import { Workspace } from './workspace.js';

/** A unified diff of two texts (line based; LCS up to a size, else a whole-file replacement). */
export function unifiedDiff(a: string, b: string, aName: string, bName: string, context = 3): string {
  if (a === b) return '';
  const x = a.split('\n');
  const y = b.split('\n');
  type Op = { t: ' ' | '-' | '+'; s: string };
  let ops: Op[];
  if (x.length * y.length > 4_000_000) {
    ops = [...x.map((s) => ({ t: '-' as const, s })), ...y.map((s) => ({ t: '+' as const, s }))];
  } else {
    const n = x.length;
    const m = y.length;
    const dp = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--)
      for (let j = m - 1; j >= 0; j--) dp[i]![j] = x[i] === y[j] ? dp[i + 1]![j + 1]! + 1 : Math.max(dp[i + 1]![j]!, dp[i]![j + 1]!);
    ops = [];
    let i = 0;
    let j = 0;
    while (i < n && j < m) {
      if (x[i] === y[j]) {
        ops.push({ t: ' ', s: x[i]! });
        i++;
        j++;
      } else if (dp[i + 1]![j]! >= dp[i]![j + 1]!) ops.push({ t: '-', s: x[i++]! });
      else ops.push({ t: '+', s: y[j++]! });
    }
    while (i < n) ops.push({ t: '-', s: x[i++]! });
    while (j < m) ops.push({ t: '+', s: y[j++]! });
  }
  // Hunks: changed lines with `context` lines around them.
  const out = [`--- ${aName}`, `+++ ${bName}`];
  let k = 0;
  const lineA = (idx: number) => ops.slice(0, idx).filter((o) => o.t !== '+').length;
  const lineB = (idx: number) => ops.slice(0, idx).filter((o) => o.t !== '-').length;
  while (k < ops.length) {
    if (ops[k]!.t === ' ') {
      k++;
      continue;
    }
    const start = Math.max(0, k - context);
    let end = k;
    let lastChange = k;
    while (end < ops.length && (ops[end]!.t !== ' ' || end - lastChange <= context * 2)) {
      if (ops[end]!.t !== ' ') lastChange = end;
      end++;
    }
    end = Math.min(ops.length, lastChange + context + 1);
    const hunk = ops.slice(start, end);
    const aLen = hunk.filter((o) => o.t !== '+').length;
    const bLen = hunk.filter((o) => o.t !== '-').length;
    out.push(`@@ -${lineA(start) + (aLen ? 1 : 0)},${aLen} +${lineB(start) + (bLen ? 1 : 0)},${bLen} @@`);
    for (const o of hunk) out.push(`${o.t}${o.s}`);
    k = end;
  }
  return out.join('\n');
}

const str = (v: unknown, name: string): string => {
  if (typeof v !== 'string') throw new ToolFailure(`'${name}' must be a string`);
  return v;
};

export function fileToolkit(dataDir: string): BuiltinToolkit {
  const ws = (key: string) => Workspace.of(dataDir, key);
  const tools: BuiltinTool[] = [
    {
      name: 'read_file_from_file_system',
      label: 'Read file',
      description: "Read a text file from the conversation's workspace. The path is relative to the workspace root.",
      userDescription: "Reads a file from the conversation's workspace.",
      inputSchema: {
        type: 'object',
        properties: { file_path: { type: 'string', description: 'File path to read, relative to the workspace' } },
        required: ['file_path'],
      },
      readOnly: true,
      async run(args, ctx) {
        return (await ws(ctx.workspace).readText(str(args.file_path, 'file_path'))).text;
      },
    },
    {
      name: 'write_file_to_file_system',
      label: 'Write file',
      description: "Write text to a file in the conversation's workspace (created, or replaced when it exists; folders are created as needed).",
      userDescription: "Writes a file in the conversation's workspace.",
      inputSchema: {
        type: 'object',
        properties: {
          file_path: { type: 'string', description: 'File path to write, relative to the workspace' },
          text: { type: 'string', description: 'Content to write to the file' },
        },
        required: ['file_path', 'text'],
      },
      async run(args, ctx) {
        const r = await ws(ctx.workspace).writeText(str(args.file_path, 'file_path'), str(args.text, 'text'));
        return `File written successfully to ${r.rel} (${r.bytes} bytes).`;
      },
    },
    {
      name: 'list_directory_from_file_system',
      label: 'List directory',
      description: "List files and folders in a folder of the conversation's workspace ('.' is the workspace root).",
      userDescription: "Lists a folder of the conversation's workspace.",
      inputSchema: { type: 'object', properties: { dir_path: { type: 'string', description: "Folder to list, relative to the workspace (default '.')" } } },
      readOnly: true,
      async run(args, ctx) {
        const dir = args.dir_path === undefined ? '.' : str(args.dir_path, 'dir_path');
        const entries = await ws(ctx.workspace).list(dir);
        return entries.length ? entries.join('\n') : `The folder '${dir}' is empty.`;
      },
    },
    {
      name: 'diff_files_in_file_system',
      label: 'Diff files',
      description:
        'Show a unified diff between a workspace file and either another workspace file (`other_path`) or a proposed new content (`new_text`). Nothing is changed.',
      userDescription: 'Compares files of the workspace (or a file with a proposed content).',
      inputSchema: {
        type: 'object',
        properties: {
          file_path: { type: 'string', description: 'The file to compare, relative to the workspace' },
          other_path: { type: 'string', description: 'Another workspace file to compare with' },
          new_text: { type: 'string', description: 'A proposed new content of file_path to compare with' },
        },
        required: ['file_path'],
      },
      readOnly: true,
      async run(args, ctx) {
        const w = ws(ctx.workspace);
        const a = await w.readText(str(args.file_path, 'file_path'));
        let b: { text: string; name: string };
        if (typeof args.other_path === 'string') {
          const o = await w.readText(args.other_path);
          b = { text: o.text, name: o.rel };
        } else if (typeof args.new_text === 'string') b = { text: args.new_text, name: `${a.rel} (proposed)` };
        else throw new ToolFailure("Give either 'other_path' or 'new_text'");
        return unifiedDiff(a.text, b.text, a.rel, b.name) || 'The contents are identical.';
      },
    },
    {
      name: 'search_files_in_file_system',
      label: 'Search files',
      description: 'Search the text files of the workspace (or of a folder of it) for a text; answers path:line: text for each matching line.',
      userDescription: 'Searches the files of the workspace.',
      inputSchema: {
        type: 'object',
        properties: {
          query: { type: 'string', description: 'The text to look for' },
          path: { type: 'string', description: "Folder or file to search, relative to the workspace (default '.')" },
          ignore_case: { type: 'boolean', description: 'Ignore letter case' },
        },
        required: ['query'],
      },
      readOnly: true,
      async run(args, ctx) {
        const query = str(args.query, 'query');
        if (!query) throw new ToolFailure("'query' must not be empty");
        if (query.length > 1000) throw new ToolFailure("'query' is too long (at most 1000 characters)");
        // Plain text only: a user-supplied regular expression could block the event loop (catastrophic backtracking).
        const fold = args.ignore_case === true;
        const needle = fold ? query.toLowerCase() : query;
        const matches = (line: string) => (fold ? line.toLowerCase() : line).includes(needle);
        const w = ws(ctx.workspace);
        const files = await w.walk(args.path === undefined ? '.' : str(args.path, 'path'));
        const hits: string[] = [];
        for (const f of files) {
          if (ctx.signal.aborted || hits.length >= 500) break;
          let text: string;
          try {
            text = (await w.readText(f)).text;
          } catch {
            continue; // binary, too large or gone
          }
          text.split('\n').forEach((line, i) => {
            if (hits.length < 500 && matches(line)) hits.push(`${f}:${i + 1}: ${line.length > 300 ? `${line.slice(0, 300)}…` : line}`);
          });
        }
        if (!hits.length) return `No matches for '${query}'.`;
        return hits.length >= 500 ? `${hits.join('\n')}\n[stopped at 500 matches]` : hits.join('\n');
      },
    },
  ];
  return { toolkit: 'FileSystem', label: 'File Management', settingsConfig: false, tools };
}
