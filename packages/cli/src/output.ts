/**
 * Terminal output: colours only on a TTY and without NO_COLOR, quiet on pipes, one JSON document
 * on stdout with --json. Every string that leaves through here has passed core's redaction.
 */
import type { Readable, Writable } from 'node:stream';

/** The process I/O the CLI runs with (a seam for tests and embedding). */
export interface CliIo {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean; columns?: number };
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
  noColor: boolean;
}

type Style = 'red' | 'green' | 'yellow' | 'dim' | 'bold' | 'cyan';
const CODES: Record<Style, [number, number]> = {
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
  dim: [2, 22],
  bold: [1, 22],
};

export class Output {
  readonly color: boolean;
  readonly interactive: boolean;
  private redact: (s: string) => string = (s) => s;

  constructor(
    readonly io: CliIo,
    readonly options: OutputOptions,
  ) {
    const noColorEnv = io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '';
    this.interactive = io.stdout.isTTY === true;
    this.color = this.interactive && !noColorEnv && !options.noColor && io.env.TERM !== 'dumb';
  }

  /** Installs core's redaction once core is loaded. */
  setRedactor(redact: (s: string) => string): void {
    this.redact = redact;
  }

  style(style: Style, text: string): string {
    if (!this.color) return text;
    const [open, close] = CODES[style];
    return `\u001b[${open}m${text}\u001b[${close}m`;
  }

  /** Human output on stdout (suppressed with --json or --quiet). */
  line(text = ''): void {
    if (this.options.json || this.options.quiet) return;
    this.io.stdout.write(`${this.redact(text)}\n`);
  }

  /** Informational output that only makes sense to a person watching (hidden on pipes). */
  note(text: string): void {
    if (this.options.json || this.options.quiet || !this.interactive) return;
    this.io.stdout.write(`${this.redact(text)}\n`);
  }

  /** Raw data the user asked for (a schema, a token with --show-token): always printed. */
  data(text: string): void {
    this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /**
   * The --json document: exactly one per command run, so `JSON.parse` of stdout always works.
   * `unredacted` fields (a token the user asked for with --show-token) join the document after
   * redaction; `line` prints it on one line (long-running commands: a script reads the first line).
   */
  json(value: unknown, options: { unredacted?: Record<string, unknown>; line?: boolean } = {}): void {
    let doc: unknown = JSON.parse(this.redact(JSON.stringify(value)));
    if (options.unredacted && doc && typeof doc === 'object') doc = { ...doc, ...options.unredacted };
    this.io.stdout.write(`${JSON.stringify(doc, null, options.line ? undefined : 2)}\n`);
  }

  /** Errors and warnings on stderr; never suppressed (but JSON mode puts errors in the document). */
  error(text: string): void {
    this.io.stderr.write(`${this.redact(text)}\n`);
  }

  warn(text: string): void {
    if (this.options.quiet) return;
    this.io.stderr.write(`${this.redact(text)}\n`);
  }

  get symbols() {
    const c = this.color;
    return {
      ok: c ? this.style('green', '✓') : '✓',
      fail: c ? this.style('red', '✗') : '✗',
      warn: c ? this.style('yellow', '!') : '!',
      skip: c ? this.style('dim', '-') : '-',
    };
  }
}
