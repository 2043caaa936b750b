import { randomUUID } from 'node:crypto';

/** Opaque random id for records. */
export function newId(): string {
  return randomUUID();
}

/**
 * An id that sorts by time, then by a caller-held sequence: lets logs be read newest-first on both
 * dialects without an auto-increment column (whose syntax differs between SQLite and PostgreSQL).
 */
export function createSortableIds(): (at: Date) => string {
  let last = '';
  let seq = 0;
  return (at) => {
    const ms = at.getTime().toString(36).padStart(10, '0');
    seq = ms === last ? seq + 1 : 0;
    last = ms;
    // 32 random bits from randomUUID's entropy cache: randomBytes(4) is a synchronous system call
    // per id, the largest single cost of an accepted message after the INSERT itself.
    return `${ms}-${seq.toString(36).padStart(4, '0')}-${randomUUID().slice(0, 8)}`;
  };
}
