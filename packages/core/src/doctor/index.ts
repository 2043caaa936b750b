export { diagnose } from './diagnose.js';
export type {
  DiagnoseLookup,
  DiagnoseOptions,
  DiagnoseResult,
  DiagnoseTokenProvider,
  DiagnosticFix,
  DiagnosticLink,
  DiagnosticStatus,
  DiagnosticStep,
  DiagnosticStepId,
} from './types.js';
