/**
 * Batch files for `send --batch`: CSV (RFC 4180, header row) or JSONL (one object per line), the
 * `{{field}}` templating of subject and bodies, and the retry file of failed rows in the same format.
 */
import { extname } from 'node:path';

export type BatchFormat = 'csv' | 'jsonl';
export type BatchValue = string | number | boolean | null | BatchValue[] | { [k: string]: BatchValue };
export type BatchRow = Record<string, BatchValue>;

export interface Batch {
  format: BatchFormat;
  /** CSV column order (kept for the retry file); for JSONL the union of keys in order of appearance. */
  columns: string[];
  rows: BatchRow[];
  /** Line number of each row in the file (1-based), for error messages. */
  lines: number[];
}

export class BatchError extends Error {
  override name = 'BatchError';
  readonly code = 'USAGE';
  readonly transient = false;
}

export function batchFormat(path: string, text: string): BatchFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.csv') return 'csv';
  return text.trimStart().startsWith('{') ? 'jsonl' : 'csv';
}

/** Parses RFC 4180 CSV: quoted fields with "" escapes and line breaks, CRLF or LF, optional BOM. */
export function parseCsv(text: string): { records: string[][]; lines: number[] } {
  const records: string[][] = [];
  const lines: number[] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endRecord = () => {
    record.push(field);
    field = '';
    if (!(record.length === 1 && record[0] === '')) {
      records.push(record);
      lines.push(recordLine);
    }
    record = [];
  };
  for (; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else field += ch;
  }
  if (quoted) throw new BatchError(`unterminated quoted field starting on line ${recordLine}`);
  if (field !== '' || record.length > 0) endRecord();
  return { records, lines };
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) || /^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function parseBatch(path: string, text: string): Batch {
  const format = batchFormat(path, text);
  if (format === 'csv') {
    const { records, lines } = parseCsv(text);
    const [header, ...data] = records;
    if (!header) throw new BatchError(`${path} is empty; expected a header row such as "to,name,subject"`);
    const columns = header.map((h) => h.trim());
    const duplicate = columns.find((c, i) => columns.indexOf(c) !== i);
    if (duplicate) throw new BatchError(`${path}: column "${duplicate}" appears twice in the header`);
    const rows = data.map((r, i) => {
      if (r.length !== columns.length)
        throw new BatchError(
          `${path} line ${lines[i + 1]}: ${r.length} fields, the header has ${columns.length}`,
        );
      return Object.fromEntries(columns.map((c, j) => [c, r[j] ?? ''])) as BatchRow;
    });
    return { format, columns, rows, lines: lines.slice(1) };
  }
  const rows: BatchRow[] = [];
  const lineNumbers: number[] = [];
  const columns: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new BatchError(`${path} line ${i + 1} is not valid JSON`);
    }
    if (!value || typeof value !== 'object' || Array.isArray(value))
      throw new BatchError(`${path} line ${i + 1} must be a JSON object`);
    for (const k of Object.keys(value)) if (!columns.includes(k)) columns.push(k);
    rows.push(value as BatchRow);
    lineNumbers.push(i + 1);
  });
  return { format, columns, rows, lines: lineNumbers };
}

/** Serializes rows in the batch's own format (the retry file can be passed to --batch as is). */
export function serializeBatch(format: BatchFormat, columns: string[], rows: BatchRow[]): string {
  if (format === 'jsonl') return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
  const lines = [columns.map(csvField).join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvField(stringify(r[c]))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export function stringify(value: BatchValue | undefined): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

const FIELD = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

/** Field names a template uses. */
export function templateFields(template: string | undefined): string[] {
  if (!template) return [];
  return [...template.matchAll(FIELD)].map((m) => m[1] as string);
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Replaces `{{field}}` with the row's value; values are HTML-escaped in HTML bodies. */
export function render(template: string, row: BatchRow, html = false): string {
  return template.replace(FIELD, (_, name: string) => {
    const value = stringify(row[name]);
    return html ? value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c) : value;
  });
}

/** Splits a recipient cell: JSON arrays as is, strings on commas and semicolons. */
export function recipients(value: BatchValue | undefined): string[] {
  if (value === undefined || value === null || value === '') return [];
  if (Array.isArray(value)) return value.map((v) => stringify(v)).filter(Boolean);
  return stringify(value)
    .split(/[,;]/)
    .map((s) => s.trim())
    .filter(Boolean);
}
