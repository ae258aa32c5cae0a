/**
 * Node.js (V8) flags the server process is started with (`npm start`, and the test harness that
 * starts the built server the same way). They cannot be set from inside a running process.
 *
 * --max-semi-space-size=64: a larger young generation. An assistant call allocates short-lived
 * objects on every step; with V8's default (16 MB semi-spaces) the server ran ~8 young-generation
 * collections a second under load, each pausing every in-flight request for 5–20 ms, which made
 * most of the platform's p99 latency. With 64 MB: a quarter as many pauses, and p99 overhead at
 * concurrency 16 fell from ≈ +27 ms to ≈ +4–7 ms (bench/README.md). Cost: up to ≈ 130 MB more
 * memory when busy.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];

/** SERVER_NODE_FLAGS minus any the operator already set (in NODE_OPTIONS or on the command line). */
export function serverNodeFlags(nodeOptions = process.env.NODE_OPTIONS ?? '', execArgv: readonly string[] = process.execArgv): string[] {
  const given = `${nodeOptions} ${execArgv.join(' ')}`;
  return SERVER_NODE_FLAGS.filter((f) => !given.includes(f.split('=')[0]!));
}
