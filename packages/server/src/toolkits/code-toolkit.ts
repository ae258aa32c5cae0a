/**
 * The code executor: runs a Python snippet in a separate, resource-limited process without
 * network access. What it isolates and what it does not is in docs/toolkits.md#code-executor;
 * in short:
 * - network: the process runs in a new network namespace (`unshare --net`), which has only a
 *   loopback interface that is down: every connection, DNS lookup included, fails. When the host
 *   cannot create one (no privileges, no unprivileged user namespaces) the tool refuses to run.
 * - identity: run by root, the server drops the process to `nobody` (setpriv), with no
 *   supplementary groups and no-new-privileges; otherwise it keeps the server's user.
 * - resources (setrlimit before the snippet runs): CPU seconds, address space, file size,
 *   open files, process count; a wall-clock timeout kills the process group.
 * - files: a fresh scratch directory per call is its working directory and HOME, deleted after;
 *   the environment is emptied (PATH, LANG only), Python runs isolated (-I: no PYTHON* variables,
 *   no user site-packages).
 * - NOT isolated: the file system is the host's, readable wherever the process's user may read
 *   (no mount namespace or chroot); the installed Python packages are the host's.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chownSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { ToolFailure, type BuiltinTool } from './types.js';

export interface CodeExecOptions {
  python: string;
  timeoutMs: number;
  memoryMb: number;
  maxOutputChars: number;
  /** Where scratch directories are made (CODEMIE_DATA_DIR/sandbox). */
  scratchRoot: string;
}

const NOBODY = 65534;

/** The wrapper that puts the interpreter in its own network namespace (and drops root), or why it cannot. */
type Launcher = { ok: true; argv: string[] } | { ok: false; reason: string };
let launcher: Launcher | null = null;

export function sandboxLauncher(): Launcher {
  if (launcher) return launcher;
  const root = process.getuid?.() === 0;
  const argv = root
    ? ['unshare', '--net', '--', 'setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--no-new-privs', '--']
    : ['unshare', '--user', '--map-root-user', '--net', '--', 'setpriv', '--no-new-privs', '--'];
  const probe = spawnSync(argv[0]!, [...argv.slice(1), 'true'], { stdio: 'ignore', timeout: 10_000 });
  launcher =
    probe.status === 0
      ? { ok: true, argv }
      : {
          ok: false,
          reason: `this host cannot start a process without network access (${argv[0]} ${argv.slice(1, 4).join(' ')} failed${probe.error ? `: ${probe.error.message}` : ''}); code execution is disabled`,
        };
  return launcher;
}

/** Runs before the snippet: resource limits, then the snippet read from stdin. */
const PRELUDE = (o: { cpuSeconds: number; memoryBytes: number }) => `
import resource, sys
def _lim(name, value):
    try:
        resource.setrlimit(getattr(resource, name), (value, value))
    except (ValueError, OSError, AttributeError):
        pass
_lim('RLIMIT_CPU', ${o.cpuSeconds})
_lim('RLIMIT_AS', ${o.memoryBytes})
_lim('RLIMIT_FSIZE', 50 * 1024 * 1024)
_lim('RLIMIT_NOFILE', 256)
_lim('RLIMIT_NPROC', 64)
_lim('RLIMIT_CORE', 0)
_src = sys.stdin.read()
sys.stdin.close()
del resource, _lim
_g = {'__name__': '__main__', '__builtins__': __builtins__}
exec(compile(_src, '<code>', 'exec'), _g)
`;

export interface CodeRunResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export async function runPython(code: string, o: CodeExecOptions, signal?: AbortSignal): Promise<CodeRunResult> {
  const l = sandboxLauncher();
  if (!l.ok) throw new ToolFailure(`Code execution is unavailable: ${l.reason}`);
  const dir = path.join(o.scratchRoot, randomUUID());
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  if (process.getuid?.() === 0) chownSync(dir, NOBODY, NOBODY);
  try {
    return await new Promise<CodeRunResult>((resolve, reject) => {
      const cpuSeconds = Math.max(1, Math.ceil(o.timeoutMs / 1000));
      const child = spawn(l.argv[0]!, [...l.argv.slice(1), o.python, '-I', '-c', PRELUDE({ cpuSeconds, memoryBytes: o.memoryMb * 1024 * 1024 })], {
        cwd: dir,
        env: { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', HOME: dir, TMPDIR: dir, PYTHONDONTWRITEBYTECODE: '1' },
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      const cap = o.maxOutputChars;
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        if (stdout.length < cap) stdout += d;
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        if (stderr.length < cap) stderr += d;
      });
      const kill = () => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, o.timeoutMs);
      const onAbort = () => kill();
      signal?.addEventListener('abort', onAbort, { once: true });
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(new ToolFailure(`Could not start Python: ${err.message}`));
      });
      child.on('close', (exitCode, sig) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve({ exitCode, signal: sig, stdout, stderr, timedOut });
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(code);
    });
  } finally {
    await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

export function codeExecutorTool(o: CodeExecOptions): BuiltinTool {
  return {
    name: 'code_executor',
    label: 'Code Executor',
    description: [
      'Run a Python 3 program and get what it prints (stdout and stderr) and its exit code.',
      'The program runs in a fresh, empty working directory that is deleted afterwards, without network access',
      `(connections and DNS fail), with at most ${o.memoryMb} MiB of memory and ${Math.ceil(o.timeoutMs / 1000)} s of run time.`,
      'Use it for calculations and data processing; print the results you need.',
    ].join(' '),
    userDescription: 'Runs Python code in an isolated process without network access.',
    inputSchema: { type: 'object', properties: { code: { type: 'string', description: 'The Python 3 source to run' } }, required: ['code'] },
    async run(args, ctx) {
      if (typeof args.code !== 'string' || !args.code.trim()) throw new ToolFailure("'code' must be a non-empty string");
      if (args.code.length > 200_000) throw new ToolFailure("'code' is too long (at most 200000 characters)");
      const r = await runPython(args.code, o, ctx.signal);
      const parts = [r.stdout ? `stdout:\n${r.stdout}` : '', r.stderr ? `stderr:\n${r.stderr}` : ''].filter(Boolean);
      const body = parts.join('\n') || '(no output)';
      if (r.timedOut) throw new ToolFailure(`The program was stopped after ${o.timeoutMs} ms.\n${body}`);
      if (r.exitCode !== 0) throw new ToolFailure(`The program failed (${r.signal ? `signal ${r.signal}` : `exit code ${r.exitCode}`}).\n${body}`);
      return body;
    },
  };
}
