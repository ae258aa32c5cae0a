/** Tables of the runtime-configuration domain (migration 0010_projects). */
export interface DynamicConfigTable {
  id: string;
  /** UPPER_SNAKE_CASE, unique. */
  key: string;
  /** The value as given (a string); typed at read time by `value_type`. */
  value: string;
  value_type: string;
  description: string | null;
  updated_by: string;
  created_at: string;
  updated_at: string;
}

export interface RuntimeConfigTables {
  dynamic_config: DynamicConfigTable;
}

declare module '../store/schema.js' {
  interface Database extends RuntimeConfigTables {}
}
