import { type ErrorCode, isSmtpOAuthError, SmtpOAuthError, type SmtpOAuthErrorJSON } from '@org/core';
import type { EmailServerConfig, GetTokenOptions, MailerOptions, MailMessage, RawMessage } from '@org/core';
import type { LogLevel } from '../logger.js';

/** The mailer options that may cross to the worker (plain data: no functions). */
export type WorkerMailerOptions = Pick<
  MailerOptions,
  'limits' | 'retry' | 'timeouts' | 'clientName' | 'exchangeLimits' | 'ca'
>;

/**
 * Host → worker. `at` is the host's clock (ms) when the request was made: the worker runs core on
 * `Date.now() + (at - Date.now() at receipt)`, so a server built with a fake clock (tests) sees
 * the same token expiry and rate-limit arithmetic as on the main thread.
 */
export type HostMessage =
  | {
      /** An entry's config, sent once per key (and again to a replacement worker). */
      t: 'entry';
      id: number;
      /** Entry id + config version: one token cache per key (S10). */
      key: string;
      config: EmailServerConfig;
      at: number;
    }
  | { t: 'release'; id: number; key: string }
  | {
      t: 'open';
      id: number;
      handle: number;
      key: string;
      connectAddress: string | undefined;
      options: WorkerMailerOptions;
      at: number;
    }
  | { t: 'send'; id: number; handle: number; message: MailMessage; at: number }
  | { t: 'sendRaw'; id: number; handle: number; message: RawMessage; at: number }
  | { t: 'token'; id: number; key: string; options: GetTokenOptions | undefined; at: number }
  | { t: 'close'; id: number; handle: number }
  | { t: 'ping'; id: number }
  | { t: 'shutdown'; id: number };

/** Worker → host. Log records are core's, already redacted; they arrive before the reply they belong to. */
export type WorkerMessage =
  | { t: 'log'; level: LogLevel; message: string; fields: Record<string, unknown> | undefined }
  | { t: 'ok'; id: number; value?: unknown }
  | { t: 'tokenRequest'; outcome: string }
  | { t: 'err'; id: number; error: WireError };

/** An error on the wire: core's `toJSON()` (no `cause`), or the name and message of anything else. */
export type WireError =
  | { kind: 'core'; json: SmtpOAuthErrorJSON }
  | { kind: 'other'; name: string; message: string };

export function toWire(error: unknown): WireError {
  if (isSmtpOAuthError(error)) return { kind: 'core', json: error.toJSON() };
  const e = error instanceof Error ? error : new Error(String(error));
  return { kind: 'other', name: e.name, message: e.message };
}

/** Rebuilds a typed error on the host: routes see `SmtpOAuthError` with the same code, hint, transient and details. */
export function fromWire(wire: WireError): Error {
  if (wire.kind === 'core') {
    const { json } = wire;
    const error = new SmtpOAuthError(json.code as ErrorCode, json.message, {
      hint: json.hint,
      transient: json.transient,
      details: json.details,
    });
    error.name = json.name;
    return error;
  }
  const error = new Error(wire.message);
  error.name = wire.name;
  return error;
}
