/**
 * The DATA / BDAT phase of one transaction (RFC 5321 §4.1.1.4, RFC 3030): collects the message
 * bytes, finds the `CRLF.CRLF` terminator across reads, undoes dot-stuffing, and enforces the
 * message size limit `maxMessageSize` (limits.ts) while reading — worded as `sizeExceeded`
 * (replies.ts), answered by the session at the end of the data.
 */

const TERMINATOR = Buffer.from('\r\n.\r\n');
const UNSTUFF = Buffer.from('\r\n..');
const CRLF_START = Buffer.from('\r\n');

/** The end of the data: the message (empty when it overflowed the size limit) and any bytes after it. */
export interface DataEnd {
  raw: Buffer;
  /** The data exceeded `maxMessageSize`: answer `sizeExceeded`, store nothing. */
  overflow: boolean;
  /** Length of the data as sent (before unstuffing), for the transcript. */
  bytes: number;
  /** Input after the terminator (pipelined commands), or null. */
  rest: Buffer | null;
}

/** The end of one BDAT chunk. */
export type BdatEnd =
  | { kind: 'refused'; reply: string }
  | { kind: 'chunk'; received: number }
  | { kind: 'last'; raw: Buffer; overflow: boolean };

export class MessageData {
  private chunks: Buffer[] = [];
  private length = 0;
  private tail: Buffer = CRLF_START;
  private overflow = false;
  private bdatRemaining = 0;
  private bdatLast = false;
  private bdatError: string | undefined;

  /** @param maxMessageSize - limit `maxMessageSize` in bytes (limits.ts). */
  constructor(private readonly maxMessageSize: number) {}

  /** Forgets the data of the transaction (RSET, end of message). */
  reset(): void {
    this.chunks = [];
    this.length = 0;
    this.overflow = false;
  }

  /** After `354`: the data starts fresh. */
  startData(): void {
    this.reset();
    this.tail = CRLF_START;
  }

  /**
   * `BDAT <size> [LAST]`. A refused chunk (`refusal`, e.g. no MAIL yet) still follows on the wire;
   * it is swallowed before the refusal is answered.
   */
  startBdat(size: number, last: boolean, refusal: string | undefined): void {
    this.bdatRemaining = size;
    this.bdatLast = last;
    this.bdatError = refusal;
  }

  private store(chunk: Buffer) {
    this.length += chunk.length;
    if (this.overflow) return;
    if (this.length > this.maxMessageSize) {
      this.overflow = true;
      this.chunks = [];
      return;
    }
    this.chunks.push(chunk);
  }

  /** One read during DATA: `undefined` while the terminator has not arrived. */
  consumeData(chunk: Buffer): DataEnd | undefined {
    const tail = this.tail;
    // Search the seam (tail of the previous chunk + head of this one) first, then this chunk alone,
    // so a chunk is never copied just to be searched.
    const seam = Buffer.concat([tail, chunk.subarray(0, 4)]);
    let p = seam.indexOf(TERMINATOR);
    if (p < 0 || p >= tail.length) {
      const c = chunk.indexOf(TERMINATOR);
      p = c < 0 ? -1 : tail.length + c;
    }
    const before = this.length;
    if (p < 0) {
      this.store(chunk);
      this.tail =
        chunk.length >= 4
          ? Buffer.from(chunk.subarray(chunk.length - 4))
          : seam.subarray(Math.max(0, seam.length - 4));
      return undefined;
    }
    // Positions: the stream is "\r\n" + data, so data index = virtual index - 2.
    const q = before + 2 - tail.length + p;
    const restStart = q + 3 - before;
    const rest = restStart < chunk.length ? chunk.subarray(restStart) : null;
    this.store(chunk.subarray(0, Math.max(0, restStart)));
    const bytes = Math.max(0, q);
    if (this.overflow) return { raw: Buffer.alloc(0), overflow: true, bytes, rest };
    const all = Buffer.concat(this.chunks, this.length);
    return { raw: unstuff(all.subarray(0, q)), overflow: false, bytes, rest };
  }

  /** One read during a BDAT chunk: the rest of the input, and the chunk's end once it is complete. */
  consumeBdat(buf: Buffer): { rest: Buffer | null; end?: BdatEnd } {
    const take = Math.min(this.bdatRemaining, buf.length);
    if (take > 0 && this.bdatError === undefined) {
      this.store(buf.subarray(0, take));
      this.bdatRemaining -= take;
    }
    const rest = take < buf.length ? buf.subarray(take) : null;
    if (this.bdatRemaining > 0) return { rest };
    if (this.bdatError !== undefined) {
      const reply = this.bdatError;
      this.bdatError = undefined;
      return { rest, end: { kind: 'refused', reply } };
    }
    if (!this.bdatLast) return { rest, end: { kind: 'chunk', received: this.length } };
    const raw = this.overflow ? Buffer.alloc(0) : Buffer.concat(this.chunks, this.length);
    return { rest, end: { kind: 'last', raw, overflow: this.overflow } };
  }
}

/** Removes the dot-stuffing of RFC 5321 §4.5.2 (a leading "." on a line was doubled). */
function unstuff(data: Buffer): Buffer {
  const leading = data[0] === 0x2e;
  let i = data.indexOf(UNSTUFF);
  if (!leading && i < 0) return data;
  const parts: Buffer[] = [];
  let from = leading ? 1 : 0;
  while (i >= 0) {
    parts.push(data.subarray(from, i + 2));
    from = i + 3;
    i = data.indexOf(UNSTUFF, from);
  }
  parts.push(data.subarray(from));
  return Buffer.concat(parts);
}
