import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';

export interface RecordedRequest {
  httpMethod: string;
  rpcMethod: string | null;
  headers: Record<string, string | string[] | undefined>;
  path: string;
}
export interface McpHttpServer {
  port: number;
  url: string;
  requests: RecordedRequest[];
  sessions: Map<string, unknown>;
  close(): Promise<void>;
}
export function createRecordingServer(info?: { path?: string }): McpServer;
export function startRecordingHttpServer(): Promise<McpHttpServer>;
export function startRecordingSseServer(): Promise<McpHttpServer>;
export function startMcpHttpServer(factory: (info: { path: string }) => { connect(t: unknown): Promise<void> }): Promise<McpHttpServer>;
