import { CodeMieError, CodeMieTimeoutError } from '../errors.js';
import type { HttpClient } from '../http.js';
import type {
  ExecutionStatus,
  MessageResponse,
  Paginated,
  ResumeOptions,
  Thought,
  WaitOptions,
  WorkflowExecution,
  WorkflowExecutionCreateParams,
  WorkflowExecutionState,
  WorkflowExecutionStateOutput,
} from '../types.js';
import { compact, items, seg, sleep } from '../util.js';

/** Statuses in which an execution is still running. */
export const RUNNING_STATUSES: readonly ExecutionStatus[] = ['In Progress', 'Not Started'];

type PageParams = { page?: number; per_page?: number };

function base(workflowId: string): string {
  return `/v1/workflows/${seg(workflowId)}/executions`;
}

function one(workflowId: string, executionId: string): string {
  return `${base(workflowId)}/${seg(executionId)}`;
}

/**
 * `client.executions`: workflow executions addressed by workflow id and execution id
 * (`execution_id` of the record `workflows.run` returns).
 */
export class ExecutionsService {
  constructor(private readonly http: HttpClient) {}

  /** `GET /v1/workflows/{id}/executions`: the items of one page. */
  async list(workflowId: string, params: PageParams = {}): Promise<WorkflowExecution[]> {
    return items<WorkflowExecution>(await this.listPaginated(workflowId, params));
  }

  /** `GET /v1/workflows/{id}/executions` with the pagination envelope. */
  listPaginated(workflowId: string, params: PageParams = {}): Promise<Paginated<WorkflowExecution>> {
    return this.http.get(base(workflowId), { query: compact(params) });
  }

  /** `POST /v1/workflows/{id}/executions` with a snake_case body; `headers` become HTTP headers. */
  create(workflowId: string, params: WorkflowExecutionCreateParams = {}, headers?: Record<string, string>): Promise<WorkflowExecution> {
    return this.http.post<WorkflowExecution>(base(workflowId), { json: compact(params), headers });
  }

  /** `GET /v1/workflows/{id}/executions/{execution_id}` */
  get(workflowId: string, executionId: string): Promise<WorkflowExecution> {
    return this.http.get<WorkflowExecution>(one(workflowId, executionId));
  }

  /** The states the execution went through: `GET …/{execution_id}/states` (one page). */
  async states(workflowId: string, executionId: string, params: PageParams = {}): Promise<WorkflowExecutionState[]> {
    return items<WorkflowExecutionState>(await this.http.get(`${one(workflowId, executionId)}/states`, { query: compact(params) }));
  }

  /** Output of one state (`stateId` is the state's `id`): `GET …/states/{state_id}/output` → `{output}`. */
  stateOutput(workflowId: string, executionId: string, stateId: string): Promise<WorkflowExecutionStateOutput> {
    return this.http.get<WorkflowExecutionStateOutput>(`${one(workflowId, executionId)}/states/${seg(stateId)}/output`);
  }

  /** Thoughts of the execution (optionally only the children of the given thought ids). */
  async thoughts(workflowId: string, executionId: string, thoughtIds?: string[]): Promise<Thought[]> {
    return items<Thought>(await this.http.post(`${one(workflowId, executionId)}/thoughts`, { json: thoughtIds ?? [] }));
  }

  /** `PUT …/{execution_id}/abort` */
  abort(workflowId: string, executionId: string): Promise<MessageResponse> {
    return this.http.put<MessageResponse>(`${one(workflowId, executionId)}/abort`);
  }

  /** Resumes an interrupted execution: `PUT …/{execution_id}/resume[?propagate_headers=true]` with `{user_input?, file_names?}`. */
  resume(workflowId: string, executionId: string, opts: ResumeOptions = {}): Promise<MessageResponse> {
    return this.http.put<MessageResponse>(`${one(workflowId, executionId)}/resume`, {
      query: { propagate_headers: opts.propagateHeaders },
      json: compact({ user_input: opts.userInput, file_names: opts.fileNames }),
      headers: opts.headers,
    });
  }

  /** `DELETE …/{execution_id}` */
  delete(workflowId: string, executionId: string): Promise<MessageResponse> {
    return this.http.delete<MessageResponse>(one(workflowId, executionId));
  }

  /** `DELETE /v1/workflows/{id}/executions`: the whole history of the workflow. */
  deleteAll(workflowId: string): Promise<MessageResponse> {
    return this.http.delete<MessageResponse>(base(workflowId));
  }

  /**
   * Polls the execution until it leaves "In Progress"/"Not Started" (or reaches one of `until`) and
   * resolves to that final record; rejects with CodeMieTimeoutError after `timeoutMs`.
   */
  async waitForCompletion(workflowId: string, executionId: string, opts: WaitOptions = {}): Promise<WorkflowExecution> {
    const timeoutMs = opts.timeoutMs ?? 300_000;
    const intervalMs = Math.max(10, opts.intervalMs ?? 1000);
    const done = (s: ExecutionStatus) => (opts.until ? opts.until.includes(s) : !RUNNING_STATUSES.includes(s));
    const deadline = Date.now() + timeoutMs;
    let last: WorkflowExecution | undefined;
    while (true) {
      last = await this.get(workflowId, executionId);
      if (!last || typeof last !== 'object') throw new CodeMieError(`Unexpected execution record for ${executionId}`);
      if (done(last.overall_status)) return last;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new CodeMieTimeoutError(
          `Execution ${executionId} still "${last.overall_status}" after ${timeoutMs} ms`,
          last,
        );
      }
      await sleep(Math.min(intervalMs, left), opts.signal);
    }
  }
}

/**
 * Executions of one workflow: `client.workflows.executions(workflowId)` (the Python SDK's shape).
 */
export class WorkflowExecutionService {
  constructor(
    private readonly ex: ExecutionsService,
    readonly workflowId: string,
  ) {}

  list(params: PageParams = {}): Promise<WorkflowExecution[]> {
    return this.ex.list(this.workflowId, params);
  }

  listPaginated(params: PageParams = {}): Promise<Paginated<WorkflowExecution>> {
    return this.ex.listPaginated(this.workflowId, params);
  }

  /** Starts an execution; positional arguments as in the Python SDK's `executions(...).create`. */
  create(
    userInput?: string,
    fileName?: string,
    conversationId?: string,
    sessionId?: string,
    propagateHeaders?: boolean,
    headers?: Record<string, string>,
    tags?: string[],
    fileNames?: string[],
  ): Promise<WorkflowExecution> {
    return this.ex.create(
      this.workflowId,
      {
        user_input: userInput,
        file_name: fileName,
        file_names: fileNames,
        conversation_id: conversationId,
        session_id: sessionId,
        propagate_headers: propagateHeaders,
        tags,
      },
      headers,
    );
  }

  get(executionId: string): Promise<WorkflowExecution> {
    return this.ex.get(this.workflowId, executionId);
  }

  states(executionId: string, params: PageParams = {}): Promise<WorkflowExecutionState[]> {
    return this.ex.states(this.workflowId, executionId, params);
  }

  stateOutput(executionId: string, stateId: string): Promise<WorkflowExecutionStateOutput> {
    return this.ex.stateOutput(this.workflowId, executionId, stateId);
  }

  getThoughts(executionId: string, thoughtIds?: string[]): Promise<Thought[]> {
    return this.ex.thoughts(this.workflowId, executionId, thoughtIds);
  }

  abort(executionId: string): Promise<MessageResponse> {
    return this.ex.abort(this.workflowId, executionId);
  }

  /** `resume(id, {userInput, propagateHeaders, headers})`; `resume(id, propagateHeaders, headers)` also works. */
  resume(executionId: string, opts?: ResumeOptions | boolean, headers?: Record<string, string>): Promise<MessageResponse> {
    const o: ResumeOptions = typeof opts === 'boolean' ? { propagateHeaders: opts, headers } : { ...opts, headers: opts?.headers ?? headers };
    return this.ex.resume(this.workflowId, executionId, o);
  }

  delete(executionId: string): Promise<MessageResponse> {
    return this.ex.delete(this.workflowId, executionId);
  }

  deleteAll(): Promise<MessageResponse> {
    return this.ex.deleteAll(this.workflowId);
  }

  waitForCompletion(executionId: string, opts: WaitOptions = {}): Promise<WorkflowExecution> {
    return this.ex.waitForCompletion(this.workflowId, executionId, opts);
  }
}
