import type { CodeMieStream, HttpClient } from '../http.js';
import type {
  Assistant,
  AssistantBase,
  AssistantChatParams,
  AssistantCreateParams,
  AssistantCreateResponse,
  AssistantListParams,
  AssistantUpdateParams,
  AssistantVersion,
  BaseModelResponse,
  MessageResponse,
  Paginated,
  StreamChunk,
  ToolKitDetails,
} from '../types.js';
import { compact, items, pathSegs, seg } from '../util.js';

type Headers = Record<string, string>;

function listQuery(params: AssistantListParams): Record<string, unknown> {
  const { filters, ...rest } = params;
  return compact({ ...rest, filters: filters && Object.keys(filters).length > 0 ? JSON.stringify(filters) : undefined });
}

/** `client.assistants` */
export class AssistantService {
  constructor(private readonly http: HttpClient) {}

  /** `GET /v1/assistants`: the items of one page (`page` is 0-based). */
  async list(params: AssistantListParams = {}): Promise<(Assistant | AssistantBase)[]> {
    return items<Assistant | AssistantBase>(await this.listPaginated(params));
  }

  /** `GET /v1/assistants` with the pagination envelope. */
  listPaginated(params: AssistantListParams = {}): Promise<Paginated<Assistant | AssistantBase>> {
    return this.http.get('/v1/assistants', { query: listQuery(params) });
  }

  /** `GET /v1/assistants/id/{id}` */
  get(assistantId: string): Promise<Assistant> {
    return this.http.get<Assistant>(`/v1/assistants/id/${seg(assistantId)}`);
  }

  /** `GET /v1/assistants/slug/{slug}` (`project` scopes a per-project slug). */
  getBySlug(slug: string, project?: string): Promise<Assistant> {
    return this.http.get<Assistant>(`/v1/assistants/slug/${pathSegs(slug)}`, { query: { project } });
  }

  /** `POST /v1/assistants` → `{message, assistantId}` */
  create(params: AssistantCreateParams): Promise<AssistantCreateResponse> {
    return this.http.post<AssistantCreateResponse>('/v1/assistants', { json: compact(params) });
  }

  /** `PUT /v1/assistants/{id}` (only the fields given are changed). */
  update(assistantId: string, params: AssistantUpdateParams): Promise<MessageResponse> {
    return this.http.put<MessageResponse>(`/v1/assistants/${seg(assistantId)}`, { json: compact(params) });
  }

  /** `DELETE /v1/assistants/{id}` */
  delete(assistantId: string): Promise<MessageResponse> {
    return this.http.delete<MessageResponse>(`/v1/assistants/${seg(assistantId)}`);
  }

  /** Available toolkits: `GET /v1/assistants/tools`. */
  async getTools(): Promise<ToolKitDetails[]> {
    return items<ToolKitDetails>(await this.http.get('/v1/assistants/tools'));
  }

  /** Templates: `GET /v1/assistants/prebuilt`. */
  async getPrebuilt(): Promise<Assistant[]> {
    return items<Assistant>(await this.http.get('/v1/assistants/prebuilt'));
  }

  /**
   * Calls an assistant: `POST /v1/assistants/{id}/model`. With `stream: true` it resolves (once the response
   * starts) to an async iterable of chunks; otherwise to the whole answer. `headers` are sent as HTTP headers
   * (e.g. `X-Tenant-ID`, forwarded to MCP tools when `propagate_headers: true`).
   */
  chat(assistantId: string, params: AssistantChatParams & { stream: true }, headers?: Headers): Promise<CodeMieStream<StreamChunk>>;
  chat(assistantId: string, params: AssistantChatParams & { stream?: false }, headers?: Headers): Promise<BaseModelResponse>;
  chat(assistantId: string, params: AssistantChatParams, headers?: Headers): Promise<BaseModelResponse | CodeMieStream<StreamChunk>>;
  chat(assistantId: string, params: AssistantChatParams, headers?: Headers): Promise<BaseModelResponse | CodeMieStream<StreamChunk>> {
    return this.call(`/v1/assistants/${seg(assistantId)}/model`, params, headers);
  }

  /** Calls a given version of an assistant (`version` in the body). */
  chatWithVersion(assistantId: string, version: number, params: AssistantChatParams & { stream: true }, headers?: Headers): Promise<CodeMieStream<StreamChunk>>;
  chatWithVersion(assistantId: string, version: number, params: AssistantChatParams & { stream?: false }, headers?: Headers): Promise<BaseModelResponse>;
  chatWithVersion(assistantId: string, version: number, params: AssistantChatParams, headers?: Headers): Promise<BaseModelResponse | CodeMieStream<StreamChunk>>;
  chatWithVersion(assistantId: string, version: number, params: AssistantChatParams, headers?: Headers): Promise<BaseModelResponse | CodeMieStream<StreamChunk>> {
    return this.call(`/v1/assistants/${seg(assistantId)}/model`, { ...params, version }, headers);
  }

  /** Calls an assistant by slug: `POST /v1/assistants/slug/{slug}/model`. */
  chatBySlug(slug: string, params: AssistantChatParams & { stream: true }, headers?: Headers): Promise<CodeMieStream<StreamChunk>>;
  chatBySlug(slug: string, params: AssistantChatParams & { stream?: false }, headers?: Headers): Promise<BaseModelResponse>;
  chatBySlug(slug: string, params: AssistantChatParams, headers?: Headers): Promise<BaseModelResponse | CodeMieStream<StreamChunk>>;
  chatBySlug(slug: string, params: AssistantChatParams, headers?: Headers): Promise<BaseModelResponse | CodeMieStream<StreamChunk>> {
    return this.call(`/v1/assistants/slug/${pathSegs(slug)}/model`, params, headers);
  }

  /** `GET /v1/assistants/{id}/versions` */
  async listVersions(assistantId: string, params: { page?: number; per_page?: number } = {}): Promise<AssistantVersion[]> {
    const answer = await this.http.get(`/v1/assistants/${seg(assistantId)}/versions`, { query: compact(params) });
    if (answer && typeof answer === 'object' && Array.isArray((answer as { versions?: unknown }).versions)) {
      return (answer as { versions: AssistantVersion[] }).versions;
    }
    return items<AssistantVersion>(answer);
  }

  /** `POST /v1/assistants/{id}/versions/{n}/rollback` */
  rollbackToVersion(assistantId: string, version: number, changeNotes?: string): Promise<MessageResponse> {
    return this.http.post<MessageResponse>(`/v1/assistants/${seg(assistantId)}/versions/${seg(version)}/rollback`, {
      json: compact({ change_notes: changeNotes }),
    });
  }

  private call(path: string, params: AssistantChatParams, headers?: Headers): Promise<BaseModelResponse | CodeMieStream<StreamChunk>> {
    const json = compact(params);
    if (params.stream) return this.http.stream<StreamChunk>('POST', path, { json, headers });
    return this.http.post<BaseModelResponse>(path, { json, headers });
  }
}
