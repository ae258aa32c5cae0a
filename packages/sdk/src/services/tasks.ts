import type { HttpClient } from '../http.js';
import type { BackgroundTask } from '../types.js';
import { seg } from '../util.js';

/** `client.tasks` — background assistant calls (`background_task: true`). */
export class TaskService {
  constructor(private readonly http: HttpClient) {}

  /** `GET /v1/tasks/{id}` */
  get(taskId: string): Promise<BackgroundTask> {
    return this.http.get<BackgroundTask>(`/v1/tasks/${seg(taskId)}`);
  }
}
