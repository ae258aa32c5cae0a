/** The worker thread of config-parser.ts: parses workflow documents with validate.ts, one message each. */
import { parentPort } from 'node:worker_threads';
import { ApiError } from '../api/errors.js';
import { setAllowedMcpCommands } from '../mcp/schemas.js';
import type { ParseReply } from './config-parser.js';
import { parseWorkflowYaml, WorkflowConfigError, type WorkflowLimits } from './validate.js';

const port = parentPort!;
port.on('message', ({ id, src, limits, allowedCommands }: { id: number; src: string; limits: WorkflowLimits; allowedCommands?: string[] }) => {
  if (allowedCommands) setAllowedMcpCommands(allowedCommands);
  let reply: ParseReply;
  try {
    reply = { id, ok: parseWorkflowYaml(src, limits) };
  } catch (err) {
    reply =
      err instanceof ApiError
        ? {
            id,
            error: {
              status: err.status,
              message: err.message,
              details: err.details,
              help: err.help ?? null,
              structured: err instanceof WorkflowConfigError ? err.structured : null,
            },
          }
        : { id, crash: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply);
});
port.postMessage('ready');
