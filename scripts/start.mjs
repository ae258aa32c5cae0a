#!/usr/bin/env node
// `npm start`: build what is stale (tsc -b is incremental, ~1 s when up to date), then run the
// platform as a child process started with the server's Node.js flags (packages/server/src/
// node-flags.ts; V8 reads them only at start-up). Signals are passed on to it (each kind once)
// and its exit code becomes ours.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const build = spawnSync(process.execPath, [tsc, '-b', 'packages/server', 'packages/sdk', 'packages/cli', 'packages/local-llm'], {
  cwd: root,
  stdio: 'inherit',
});
if (build.status !== 0) {
  console.error('Build failed; see the errors above.');
  process.exit(build.status ?? 1);
}
// The web console (packages/web, served at /): rebuilt with Vite when a source is newer than the build.
const web = path.join(root, 'packages', 'web');
const newest = (p) => {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(p).map((f) => newest(path.join(p, f))));
};
const builtAt = existsSync(path.join(web, 'dist', 'index.html')) ? statSync(path.join(web, 'dist', 'index.html')).mtimeMs : 0;
const sources = ['src', 'index.html', 'vite.config.ts', 'package.json'].map((f) => path.join(web, f)).filter(existsSync);
if (process.argv[2] !== 'worker' && Math.max(...sources.map(newest)) > builtAt) {
  // Built aside, then moved into place: a server already serving dist/ (or another start building) never sees half a build.
  const vite = path.join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  const out = path.join(web, `dist.building-${process.pid}`);
  const webBuild = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'warn', '--outDir', out, '--emptyOutDir'], { cwd: web, stdio: 'inherit' });
  if (webBuild.status !== 0) {
    rmSync(out, { recursive: true, force: true });
    console.error('Building the web console failed; see the errors above.');
    process.exit(webBuild.status ?? 1);
  }
  rmSync(path.join(web, 'dist'), { recursive: true, force: true });
  try {
    renameSync(out, path.join(web, 'dist'));
  } catch {
    rmSync(out, { recursive: true, force: true }); // another start put its (equally fresh) build there first
  }
}
const env = { ...process.env };
if (process.argv[2] === 'worker') env.CODEMIE_ROLE = 'worker';
const { serverNodeFlags } = await import(pathToFileURL(path.join(root, 'packages/server/dist/node-flags.js')).href);
const child = spawn(process.execPath, [...serverNodeFlags(), path.join(root, 'packages/server/dist/main.js')], { env, stdio: 'inherit' });
// Ctrl-C already reaches the server (same process group), so SIGINT is not passed on (a second
// one would make it skip the graceful shutdown). SIGTERM and SIGHUP sent to this process are,
// once each: a process-group or control-group SIGTERM (systemd's default) reaches the server too,
// and the server takes a second SIGTERM calmly, but a stream of them need not be multiplied.
// Either way we leave when the server has.
process.on('SIGINT', () => {});
const passed = new Set();
for (const sig of ['SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (passed.has(sig)) return;
    passed.add(sig);
    child.kill(sig);
  });
}
child.on('exit', (code, signal) => {
  if (code !== null) process.exit(code);
  // Killed by a signal: die of the same one, so whoever started us sees it.
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
});
