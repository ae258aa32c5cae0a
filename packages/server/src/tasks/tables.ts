export interface BackgroundTasksTable {
  id: string;
  kind: string;
  user_id: string;
  username: string;
  user_name: string;
  task: string;
  /** STARTED | COMPLETED | FAILED */
  status: string;
  final_output: string | null;
  current_step: string | null;
  /** JSON: what the run needs to (re)start. */
  payload: string;
  date: string;
  update_date: string;
}

export interface TaskTables {
  background_tasks: BackgroundTasksTable;
}

declare module '../store/schema.js' {
  interface Database extends TaskTables {}
}
