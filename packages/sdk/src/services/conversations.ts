import type { HttpClient } from '../http.js';
import type {
  ConversationDetails,
  ConversationGetParams,
  ConversationListItem,
  ConversationListParams,
  MessageResponse,
} from '../types.js';
import { compact, items, seg } from '../util.js';

/** `client.conversations` (each user sees only their own). */
export class ConversationService {
  constructor(private readonly http: HttpClient) {}

  /** `GET /v1/conversations` (all of them, or one page when `page`/`per_page` are given). */
  async list(params: ConversationListParams = {}): Promise<ConversationListItem[]> {
    return items<ConversationListItem>(await this.http.get('/v1/conversations', { query: compact(params) }));
  }

  /** `GET /v1/conversations/{id}` with its history. */
  get(conversationId: string, params: ConversationGetParams = {}): Promise<ConversationDetails> {
    return this.http.get<ConversationDetails>(`/v1/conversations/${seg(conversationId)}`, { query: compact(params) });
  }

  /** Same as get() (the Python SDK's name). */
  getConversation(conversationId: string): Promise<ConversationDetails> {
    return this.get(conversationId);
  }

  /** `POST /v1/conversations` (body keys as the API takes them, e.g. `initialAssistantId`, `folder`). */
  create(params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.http.post('/v1/conversations', { json: compact(params) });
  }

  /** `PUT /v1/conversations/{id}` (e.g. `{name, folder, pinned}`). */
  update(conversationId: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.http.put(`/v1/conversations/${seg(conversationId)}`, { json: compact(params) });
  }

  /** `DELETE /v1/conversations/{id}` */
  delete(conversationId: string): Promise<MessageResponse> {
    return this.http.delete<MessageResponse>(`/v1/conversations/${seg(conversationId)}`);
  }

  /** `DELETE /v1/conversations` — every conversation of the caller. */
  deleteAll(): Promise<MessageResponse> {
    return this.http.delete<MessageResponse>('/v1/conversations');
  }
}
