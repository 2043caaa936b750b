/**
 * One interface for where an entry's mailers and token cache run: on this thread
 * (`in-thread.ts`, `mailerThread: false`) or in the mailer worker thread (`host.ts`). The entry
 * runtimes use it without knowing which.
 */
import type { EmailServerConfig, MailMessage, RawMessage, SendResult, TokenProvider } from '@org/core';
import type { WorkerMailerOptions } from './protocol.js';

/** A pooled mailer of one entry: core's `Mailer` minus `verify`. */
export interface RemoteMailer {
  send(message: MailMessage): Promise<SendResult>;
  /** MIME passed through unchanged (the relay); core's `sendRaw`. */
  sendRaw(message: RawMessage): Promise<SendResult>;
  /** Closes it once its sends in flight are done. */
  close(): Promise<void>;
}

/** One entry as the host holds it: its config (handed over once), one token cache, its mailers. */
export interface HostedEntry {
  /** The entry's one token cache (S10), shared with its mailers; `undefined` without OAuth2. */
  readonly tokens: TokenProvider | undefined;
  /**
   * Opens a pooled mailer of the entry; resolves once it exists (core's option errors reject here).
   * @param connectAddress - the address the S6 guard checked (undefined when the host is an IP literal).
   */
  open(spec: { connectAddress: string | undefined; options: WorkerMailerOptions }): Promise<RemoteMailer>;
  /** The entry is no longer used (a new config version replaced it): its cache goes with its last mailer. */
  release(): void;
}

export interface MailerHost {
  /**
   * The entry under `key` (entry id + config version: one token cache per key, S10). The config is
   * handed to the host here, once; tokens and mailers of the entry refer to it by key.
   */
  entry(key: string, config: EmailServerConfig): HostedEntry;
  /** True while the host answers (readiness). */
  alive(): Promise<boolean>;
  /** Closes every mailer (sends in flight finish first). Idempotent. */
  close(): Promise<void>;
}
