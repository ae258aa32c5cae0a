import type { HttpClient } from '../http.js';
import type { LLMModel } from '../types.js';
import { items } from '../util.js';

/** `client.llms` */
export class LLMService {
  constructor(private readonly http: HttpClient) {}

  /** Chat models: `GET /v1/llm_models`. Send `base_name` as `llm_model_type` / `llmModel`. */
  async list(): Promise<LLMModel[]> {
    return items<LLMModel>(await this.http.get('/v1/llm_models'));
  }

  /** Embedding models: `GET /v1/embeddings_models`. */
  async listEmbeddings(): Promise<LLMModel[]> {
    return items<LLMModel>(await this.http.get('/v1/embeddings_models'));
  }
}
