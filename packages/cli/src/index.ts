/**
 * `@org/cli`: the `smtp-oauth` command. The bin is the entry point; this module lets the CLI be
 * embedded (e.g. run in-process by another tool) with its own I/O.
 */
export { run } from './main.js';
export { ExitCode, type ExitCodeValue } from './exit-codes.js';
export { exitCodeFor } from './report.js';
export type { CliIo } from './output.js';
