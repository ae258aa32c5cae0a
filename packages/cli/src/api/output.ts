/** Human output (tables, dimmed notes) and `--json` output. */

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function table(rows: Array<Record<string, unknown>>, columns: string[]): string {
  const cell = (v: unknown) => (v === null || v === undefined ? '' : String(v).replace(/\s+/g, ' '));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => (i === vals.length - 1 ? v : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n') + '\n';
}

export function dim(text: string, stream: NodeJS.WriteStream = process.stderr): string {
  return stream.isTTY && !process.env.NO_COLOR ? `\x1b[2m${text}\x1b[22m` : text;
}

/** `--json` given on the command or on one of its parent groups. */
export function wantsJson(cmd: { optsWithGlobals(): Record<string, unknown> }): boolean {
  return cmd.optsWithGlobals().json === true;
}
