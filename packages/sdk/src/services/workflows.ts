import type { HttpClient } from '../http.js';
import type {
  MessageResponse,
  Paginated,
  Workflow,
  WorkflowCreateParams,
  WorkflowCreateResponse,
  WorkflowExecution,
  WorkflowListParams,
  WorkflowUpdateParams,
} from '../types.js';
import { compact, items, seg } from '../util.js';
import { ExecutionsService, WorkflowExecutionService } from './executions.js';

function listQuery(params: WorkflowListParams): Record<string, unknown> {
  const { search, projects, filters, ...rest } = params;
  const f: Record<string, unknown> = { ...filters };
  if (search !== undefined && search !== '') f.search = search;
  if (projects && projects.length > 0) f.project = projects;
  return compact({ ...rest, filters: Object.keys(f).length > 0 ? JSON.stringify(f) : undefined });
}

/** `client.workflows` */
export class WorkflowService {
  constructor(
    private readonly http: HttpClient,
    private readonly ex: ExecutionsService,
  ) {}

  /** `GET /v1/workflows`: the items of one page (`page` is 0-based). */
  async list(params: WorkflowListParams = {}): Promise<Workflow[]> {
    return items<Workflow>(await this.listPaginated(params));
  }

  /** `GET /v1/workflows` with the pagination envelope. */
  listPaginated(params: WorkflowListParams = {}): Promise<Paginated<Workflow>> {
    return this.http.get('/v1/workflows', { query: listQuery(params) });
  }

  /** `GET /v1/workflows/id/{id}` */
  get(workflowId: string): Promise<Workflow> {
    return this.http.get<Workflow>(`/v1/workflows/id/${seg(workflowId)}`);
  }

  /** `POST /v1/workflows` → `{message, data: Workflow}` */
  create(params: WorkflowCreateParams): Promise<WorkflowCreateResponse> {
    return this.http.post<WorkflowCreateResponse>('/v1/workflows', { json: compact(params) });
  }

  /** `PUT /v1/workflows/{id}` → `{message, data: Workflow}` */
  update(workflowId: string, params: WorkflowUpdateParams): Promise<WorkflowCreateResponse> {
    return this.http.put<WorkflowCreateResponse>(`/v1/workflows/${seg(workflowId)}`, { json: compact(params) });
  }

  /** `DELETE /v1/workflows/{id}` (its executions go too). */
  delete(workflowId: string): Promise<MessageResponse> {
    return this.http.delete<MessageResponse>(`/v1/workflows/${seg(workflowId)}`);
  }

  /** Templates: `GET /v1/workflows/prebuilt`. */
  async getPrebuilt(): Promise<Workflow[]> {
    return items<Workflow>(await this.http.get('/v1/workflows/prebuilt'));
  }

  /**
   * Starts a workflow: `POST /v1/workflows/{id}/executions` with
   * `{user_input, file_name, session_id, propagate_headers, tags, file_names}` (undefined ones left out).
   * `headers` are sent as HTTP headers (X-* headers reach MCP tools when `propagateHeaders` is true).
   * Resolves to the execution record (`execution_id`, `overall_status: "In Progress"`); the run goes on in
   * the background — see `client.executions.waitForCompletion`.
   *
   * Pass `undefined` to skip an optional argument:
   * `run(id, "Run deployment check", undefined, undefined, undefined, undefined, ["experiment"])`.
   */
  run(
    workflowId: string,
    userInput?: string,
    fileName?: string,
    sessionId?: string,
    propagateHeaders?: boolean,
    headers?: Record<string, string>,
    tags?: string[],
    fileNames?: string[],
  ): Promise<WorkflowExecution> {
    return this.ex.create(
      workflowId,
      {
        user_input: userInput,
        file_name: fileName,
        session_id: sessionId,
        propagate_headers: propagateHeaders,
        tags,
        file_names: fileNames,
      },
      headers,
    );
  }

  /** Executions of one workflow (list, get, states, abort, resume, delete, waitForCompletion, ...). */
  executions(workflowId: string): WorkflowExecutionService {
    return new WorkflowExecutionService(this.ex, workflowId);
  }
}
