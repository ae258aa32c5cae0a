/**
 * The soak bench's mock LLM, in a process of its own: the scripted test LLM server answering every
 * call with `--tokens` words streamed over `--stream-ms` (non-stream calls wait as long, then
 * answer whole). Prints its base URL on the first line of stdout; stops on SIGTERM.
 *
 *   npx tsx bench/soak-llm.ts [--tokens 40] [--stream-ms 2000]
 */
import { startTestLlmServer } from '../packages/server/test/llm-server.js';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const TOKENS = arg('tokens', 40);
const STREAM_MS = arg('stream-ms', 2000);

const server = await startTestLlmServer({ record: false });
const words = Array.from({ length: TOKENS }, (_, i) => `w${i} `);
server.rule(() => ({ chunks: words, delayMs: STREAM_MS / TOKENS, usage: { prompt_tokens: 20, completion_tokens: TOKENS } }));
process.stdout.write(`${server.baseUrl}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
