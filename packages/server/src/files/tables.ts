/** Uploaded files: metadata here, bytes under CODEMIE_DATA_DIR/files/<id>. */
export interface FilesTable {
  id: string;
  /** Original file name as uploaded. */
  name: string;
  mime_type: string;
  size: number;
  owner_id: string;
  /** Optional project: its members may read the file too. */
  project: string | null;
  date: string;
}

export interface FileTables {
  files: FilesTable;
}

declare module '../store/schema.js' {
  interface Database extends FileTables {}
}
