/** Small helpers shared by the doctor's steps and findings. */
import { redactSecrets } from '../errors/redact.js';
import type { DiagnosticFix, DiagnosticStatus } from './types.js';

const DAY_MS = 86_400_000;
/** Certificates (client and server) closer than this to expiry get a warning. */
export const EXPIRY_WARNING_MS = 30 * DAY_MS;
/** Tokens living shorter than this get a warning: the cache refreshes 5 min ahead of expiry. */
export const MIN_TOKEN_LIFETIME_MS = 10 * 60_000;

/** What a step's body returns; `diagnose` adds id, title and duration. */
export interface Outcome {
  status: Exclude<DiagnosticStatus, 'skipped'>;
  evidence: string[];
  causes?: string[];
  fix?: DiagnosticFix;
}
export const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function inMinutes(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (Math.abs(minutes) < 120) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (Math.abs(hours) < 72) return `${hours} h`;
  return `${Math.round(hours / 24)} days`;
}

export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const message = redactSecrets(err.message);
    return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
  }
  return redactSecrets(String(err));
}

export function mergeFixes(list: DiagnosticFix[]): DiagnosticFix | undefined {
  if (list.length === 0) return undefined;
  if (list.length === 1) return list[0];
  const commands = list.flatMap((f) => f.commands ?? []);
  const links = list.flatMap((f) => f.links ?? []);
  const fields = list.flatMap((f) => f.fields ?? []);
  return {
    summary: list.map((f) => f.summary).join(' '),
    ...(commands.length ? { commands: [...new Set(commands)] } : {}),
    ...(links.length ? { links: links.filter((l, i) => links.findIndex((x) => x.url === l.url) === i) } : {}),
    ...(fields.length ? { fields: [...new Set(fields)] } : {}),
  };
}

/** Rejects with an `ETIMEDOUT` error naming `what` when `promise` takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`${what} timed out after ${ms} ms`), { code: 'ETIMEDOUT' })),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
