/**
 * The part of A2A that runs on the protocol's SDK: the v1.0 and v0.3 JSON-RPC handlers over our
 * executor and task store, and the wire agent card. Imported by routes.ts on the first A2A request.
 */
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { A2A_VERSION_HEADER } from '@a2a-js/sdk';
import { DefaultExecutionEventBusManager, DefaultRequestHandler, JsonRpcTransportHandler, ServerCallContext, validateVersion } from '@a2a-js/sdk/server';
import { isV1JsonRpcMethod } from '@a2a-js/sdk/compat/v0_3';
import { LegacyJsonRpcTransportHandler } from '@a2a-js/sdk/compat/v0_3/server';
import type { AuthUser } from '../../api/auth.js';
import type { Database } from '../../store/schema.js';
import type { AssistantRecord } from '../repo.js';
import { agentCard, type CardOptions } from './card.js';
import { AssistantExecutor, type A2aRunner } from './executor.js';
import { DbTaskStore } from './task-store.js';
import { A2aCaller, ASSISTANT_STATE_KEY, CONTEXT_HISTORY_KEY } from './user.js';

export { agentCardJson } from './card.js';

type Rpc = { id?: unknown; method?: unknown; params?: Record<string, unknown> };

export function a2aEngine(db: Kysely<Database>, run: A2aRunner) {
  const executor = new AssistantExecutor(run);
  const buses = new DefaultExecutionEventBusManager();
  return {
    async handle(a: AssistantRecord, user: AuthUser, req: FastifyRequest, rpc: Rpc, cardOptions: CardOptions): Promise<Record<string, unknown>> {
      const card = agentCard(a, cardOptions);
      const store = new DbTaskStore(db, a.id);
      const handler = new DefaultRequestHandler(card, store, executor, buses);
      const requestedVersion = (req.headers[A2A_VERSION_HEADER.toLowerCase()] as string | undefined) || undefined;
      const context = new ServerCallContext({
        user: new A2aCaller(user),
        requestedVersion,
        state: new Map<string, unknown>([
          ['headers', req.headers],
          [ASSISTANT_STATE_KEY, a],
          [CONTEXT_HISTORY_KEY, (contextId: string, taskId: string) => store.contextHistory(contextId, taskId, context)],
        ]),
      });
      const v1 = isV1JsonRpcMethod(rpc.method);
      try {
        validateVersion(context.requestedVersion, card, 'JSONRPC');
      } catch (err) {
        const error = v1 ? JsonRpcTransportHandler.mapToJSONRPCError(err) : LegacyJsonRpcTransportHandler.mapToLegacyJSONRPCError(err);
        return { jsonrpc: '2.0', id: (rpc.id as string | number | null) ?? null, error };
      }
      const out = v1
        ? await new JsonRpcTransportHandler(handler).handle(rpc as Record<string, unknown>, context)
        : await new LegacyJsonRpcTransportHandler(handler).handle(rpc as Record<string, unknown>, context);
      if (typeof (out as AsyncGenerator)[Symbol.asyncIterator] === 'function') {
        // Streaming is not advertised (capabilities.streaming false); the SDK refuses it before this.
        return { jsonrpc: '2.0', id: rpc.id ?? null, error: { code: -32004, message: 'This operation is not supported' } };
      }
      return out as Record<string, unknown>;
    },
  };
}
