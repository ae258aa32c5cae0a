/**
 * The CSV of `POST /v1/projects/{name}/import-users[/validate]`: UTF-8, comma-separated, a header
 * row with an `email` column and an optional `role` column (`project_admin` or `user`; empty means
 * `user`), at most 1000 data rows. Structural problems are 422s; row problems are reported per row.
 * Two conveniences beyond the reference: a UTF-8 byte-order mark is ignored (spreadsheet exports
 * start with one), and `administrator` (the word the reference's own documentation uses) is read as
 * `project_admin`.
 */
import { ApiError } from '../api/errors.js';

export const CSV_MAX_BYTES = 5 * 1024 * 1024;
export const CSV_MAX_ROWS = 1000;
const ROLES = ['project_admin', 'user'];

export interface CsvRow {
  email: string;
  role: string;
  error?: string;
  /** Filled once the e-mail is resolved to a user. */
  userId?: string;
}

const invalid = (details: string) => new ApiError(422, 'CSV validation failed', details);

/** Parses and checks a file; e-mails are not resolved here. */
export function parseCsvImport(bytes: Buffer): CsvRow[] {
  let text = decodeStrict(bytes);
  if (text.startsWith('\ufeff')) text = text.slice(1);
  const records = parseCsv(text);
  const header = records.shift();
  if (!header || !header.includes('email')) throw invalid("CSV must contain an 'email' column");
  const emailAt = header.indexOf('email');
  const roleAt = header.indexOf('role');
  // Lines with no field at all are skipped, as Python's csv.DictReader does.
  const data = records.filter((r) => !(r.length === 1 && r[0] === '') && r.length > 0);
  if (!data.length) throw invalid('CSV file must contain at least one data row');
  if (data.length > CSV_MAX_ROWS) throw invalid(`CSV exceeds the maximum of ${CSV_MAX_ROWS} rows (got ${data.length})`);
  const seen = new Set<string>();
  return data.map((r) => {
    const email = (r[emailAt] ?? '').toLowerCase().trim();
    let role = roleAt >= 0 ? (r[roleAt] ?? '').trim() : '';
    if (!role) role = 'user';
    if (role === 'administrator') role = 'project_admin';
    const row: CsvRow = { email, role };
    if (!ROLES.includes(role)) row.error = `Invalid role '${role}'. Allowed values: ['project_admin', 'user']`;
    else if (email && seen.has(email)) row.error = `Duplicate email: '${email}' appears more than once`;
    else seen.add(email);
    return row;
  });
}

/** RFC 4180 records: quoted fields (with "" for a quote, newlines inside), CRLF or LF line ends. */
export function parseCsv(text: string): string[][] {
  const out: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const endField = () => {
    record.push(field);
    field = '';
  };
  const endRecord = () => {
    endField();
    out.push(record);
    record = [];
  };
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"' && field === '') {
      quoted = true;
      i++;
    } else if (c === ',') {
      endField();
      i++;
    } else if (c === '\r' || c === '\n') {
      endRecord();
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
    } else {
      field += c;
      i++;
    }
  }
  if (field !== '' || record.length) endRecord();
  return out;
}

/** UTF-8 → text, refusing invalid bytes with Python's wording of the first one. */
function decodeStrict(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const { at, reason } = firstInvalidUtf8(bytes);
    const byte = bytes[at] ?? 0;
    throw new ApiError(
      422,
      'CSV decoding failed',
      `File must be UTF-8 encoded: 'utf-8' codec can't decode byte 0x${byte.toString(16).padStart(2, '0')} in position ${at}: ${reason}`,
    );
  }
}

function firstInvalidUtf8(b: Buffer): { at: number; reason: string } {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return { at: i, reason: 'invalid start byte' };
    for (let k = 1; k <= n; k++) {
      const cc = b[i + k];
      if (cc === undefined) return { at: i, reason: 'unexpected end of data' };
      if ((cc & 0xc0) !== 0x80) return { at: i, reason: 'invalid continuation byte' };
    }
    i += n + 1;
  }
  // Valid sequences that still do not decode (surrogates, overlong forms).
  return { at: 0, reason: 'invalid continuation byte' };
}
