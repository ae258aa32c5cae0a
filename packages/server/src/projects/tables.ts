/** Tables of the projects domain (migration 0010_projects). */
export interface ProjectsTable {
  /** The project's name is its id (as the reference's `applications.id`). */
  name: string;
  /** Lower-case name: names are unique case-insensitively. */
  name_lower: string;
  display_name: string | null;
  description: string | null;
  /** `shared` (created explicitly) or `personal`. */
  project_type: string;
  /** Id of the user who created it; null for projects made by the admin API or from claims. */
  created_by: string | null;
  /** Stored and echoed only (0/1, or null when never set). */
  cli_analytics_enabled: number | null;
  /** Stored and echoed (0/1): there is no member spend tracking to enforce it on. */
  enforce_member_spend_limits: number;
  created_at: string;
  updated_at: string;
}

export interface ProjectMembersTable {
  id: string;
  project: string;
  /** The user's id: the token subject (embedded IdP user id, or an external issuer's `sub`). */
  user_id: string;
  is_project_admin: number;
  /** At most one default project per user (billing attribution in the reference). */
  is_default: number;
  created_at: string;
  updated_at: string;
}

export interface ProjectTables {
  projects: ProjectsTable;
  project_members: ProjectMembersTable;
}

declare module '../store/schema.js' {
  interface Database extends ProjectTables {}
}
