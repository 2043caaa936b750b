/**
 * The AUTH dialogue of one session (RFC 4954; XOAUTH2, OAUTHBEARER per RFC 7628): mechanism
 * choice, SASL continuation lines, Exchange's refusals of basic authentication, HVE's checks, the
 * authorizer's verdict, and the per-mailbox concurrent-connection limit (`432 4.3.2`).
 */
import type { AuthRefusal, SmtpAuthorizer, SmtpIdentity } from './authorizer.js';
import type { SmtpFaultStage } from './faults.js';
import type { PersonaReplies } from './replies.js';
import { base64Text, parseOauthBearer, parseXoauth2, plainUser } from './sasl.js';
import type { SmtpServerOptions } from './server.js';
import { REDACTED, type Shared, type Step } from './session-context.js';
import type { AuthAttempt } from './store.js';

/** What the dialogue needs from its session. */
export interface AuthSession {
  /** Whether the connection is encrypted (AUTH is only offered after TLS). */
  readonly secure: boolean;
  readonly closed: boolean;
  reply(text: string): void;
  log(from: 'client' | 'server', line: string): void;
  end(): void;
  /** Runs the stage's scripted fault, if one fires, around `next`. */
  fault(stage: SmtpFaultStage, next: () => Step, mailbox?: string): Step;
  /** AUTH succeeded and counts against the mailbox's concurrent connections until the session ends. */
  authenticated(identity: SmtpIdentity): void;
}

type AuthPending =
  | { kind: 'bearer'; mechanism: 'XOAUTH2' | 'OAUTHBEARER' }
  | { kind: 'login-user' }
  | { kind: 'login-pass'; user: string | undefined }
  | { kind: 'plain' }
  | { kind: 'challenge'; final: string; attempt: AuthAttempt };

export class AuthDialogue {
  private pending: AuthPending | undefined;

  constructor(
    private readonly s: Shared,
    private readonly session: AuthSession,
  ) {}

  /** True while the server waits for a SASL continuation line (every line goes to {@link continue}). */
  get inProgress(): boolean {
    return this.pending !== undefined;
  }

  private reply(text: string) {
    this.session.reply(text);
  }

  private attempt(a: Omit<AuthAttempt, 'at'>): AuthAttempt {
    const full: AuthAttempt = { at: new Date(this.s.clock.now()), ...a };
    this.s.onAuthAttempt(full);
    return full;
  }

  /** `AUTH <mechanism> [initial-response]`, after EHLO on an unauthenticated session. */
  start(args: string): Step {
    const r = this.s.replies;
    const sp = args.indexOf(' ');
    const mechanism = (sp < 0 ? args : args.slice(0, sp)).toUpperCase();
    const initial = sp < 0 ? undefined : args.slice(sp + 1).trim();
    const secure = this.session.secure;
    const advertised = secure && this.s.mechanisms.includes(mechanism);
    if (!secure || (!advertised && mechanism !== 'PLAIN')) {
      const reply = r.unrecognizedAuth(this.s.clock.now());
      this.attempt({
        mechanism,
        ok: false,
        reply,
        reason: secure
          ? 'mechanism not offered'
          : 'AUTH refused on an unencrypted connection (not advertised before TLS)',
      });
      this.reply(reply);
      return;
    }
    if (mechanism === 'XOAUTH2' || mechanism === 'OAUTHBEARER') {
      if (initial === undefined) {
        this.pending = { kind: 'bearer', mechanism };
        this.reply('334 ');
        return;
      }
      return this.bearer(mechanism, initial);
    }
    if (mechanism === 'LOGIN') {
      if (initial === undefined) {
        this.pending = { kind: 'login-user' };
        this.reply('334 VXNlcm5hbWU6');
      } else {
        this.pending = { kind: 'login-pass', user: base64Text(initial) };
        this.reply('334 UGFzc3dvcmQ6');
      }
      return;
    }
    // PLAIN: not offered by Exchange, but clients try it; it is basic authentication all the same.
    if (initial === undefined) {
      this.pending = { kind: 'plain' };
      this.reply('334 ');
      return;
    }
    this.basicRefused('PLAIN', plainUser(initial));
  }

  private basicRefused(mechanism: string, user: string | undefined) {
    const reply = this.s.replies.basicAuthRefused;
    this.attempt({
      mechanism,
      mailbox: user?.toLowerCase(),
      ok: false,
      reply,
      reason: 'basic authentication is disabled; use OAuth2 (XOAUTH2)',
    });
    this.reply(reply);
  }

  /** A SASL continuation line (never logged: it carries credentials). */
  continue(line: string): Step {
    const pending = this.pending;
    this.pending = undefined;
    this.session.log('client', line.length === 0 ? '' : REDACTED);
    if (!pending) return;
    if (line === '*' && pending.kind !== 'challenge') {
      this.reply(this.s.replies.authAborted);
      return;
    }
    switch (pending.kind) {
      case 'bearer':
        return this.bearer(pending.mechanism, line);
      case 'login-user':
        this.pending = { kind: 'login-pass', user: base64Text(line) };
        this.reply('334 UGFzc3dvcmQ6');
        return;
      case 'login-pass':
        this.basicRefused('LOGIN', pending.user);
        return;
      case 'plain':
        this.basicRefused('PLAIN', plainUser(line));
        return;
      case 'challenge':
        // RFC 7628 §3.2.3: the client answers the error challenge with a dummy response.
        pending.attempt.reply = pending.final;
        this.reply(pending.final);
        return;
    }
  }

  private refuse(
    mechanism: string,
    refusal: AuthRefusal,
    reason: string,
    mailbox: string | undefined,
    identity?: Partial<SmtpIdentity>,
  ) {
    const { challenge, final } = this.s.replies.authRefused(refusal, this.s.clock.now());
    const attempt = this.attempt({
      mechanism,
      mailbox,
      identity,
      ok: false,
      reply: final,
      reason,
      refusal,
    });
    if (challenge) {
      this.pending = { kind: 'challenge', final, attempt };
      this.reply(challenge);
    } else {
      this.reply(final);
    }
  }

  private bearer(mechanism: 'XOAUTH2' | 'OAUTHBEARER', blob: string): Step {
    const creds = mechanism === 'XOAUTH2' ? parseXoauth2(blob) : parseOauthBearer(blob);
    if (!creds) {
      return this.session.fault('auth', () => {
        this.refuse(mechanism, 'authentication-unsuccessful', `malformed ${mechanism} blob`, undefined);
        return undefined;
      });
    }
    const mailbox = creds.user.toLowerCase();
    return this.session.fault(
      'auth',
      () => this.decide(mechanism, mailbox, creds.user, creds.token),
      mailbox,
    );
  }

  private async decide(
    mechanism: 'XOAUTH2' | 'OAUTHBEARER',
    mailbox: string,
    user: string,
    token: string,
  ): Promise<void> {
    const r = this.s.replies;
    const hve = this.s.hve;
    if (hve) {
      const refusal = hveRefusal(hve, user, token, this.s.clock.now(), r);
      if (refusal) {
        this.attempt({ mechanism, mailbox, ok: false, reply: refusal.reply, reason: refusal.reason });
        this.reply(refusal.reply);
        return;
      }
    }
    let decision: Awaited<ReturnType<SmtpAuthorizer['authenticate']>>;
    try {
      decision = await this.s.authorizer.authenticate({ mechanism, user, token });
    } catch (err) {
      const reply = '454 4.7.0 Temporary authentication failure';
      this.attempt({
        mechanism,
        mailbox,
        ok: false,
        reply,
        reason: `authorizer failed: ${err instanceof Error ? err.name : 'error'}`,
      });
      this.reply(reply);
      return;
    }
    if (this.session.closed) return;
    if (!decision.ok) {
      this.refuse(mechanism, decision.refusal, decision.reason, mailbox, decision.identity);
      return;
    }
    const identity = decision.identity;
    // Limit `concurrentConnectionsPerMailbox` (limits.ts), worded as `concurrentLimit` (replies.ts).
    if (!this.s.counters.tryConnect(identity.mailbox)) {
      const reply = r.concurrentLimit;
      this.attempt({
        mechanism,
        mailbox,
        identity,
        ok: false,
        reply,
        reason: `more than ${this.s.limits.concurrentConnectionsPerMailbox} concurrent connections for ${identity.mailbox}`,
      });
      this.reply(reply);
      this.session.end();
      return;
    }
    this.session.authenticated(identity);
    this.attempt({ mechanism, mailbox, identity, ok: true, reply: r.authOk, reason: decision.reason });
    this.reply(r.authOk);
  }
}

/** HVE's own checks before the token is validated (reference §8). */
function hveRefusal(
  hve: NonNullable<SmtpServerOptions['highVolumeEmail']>,
  user: string,
  token: string,
  now: number,
  r: PersonaReplies,
): { reply: string; reason: string } | undefined {
  if (hve.isKnownUser && !hve.isKnownUser(user.trim().toLowerCase()))
    return { reply: r.userNotValid, reason: `HVE: '${user}' is not a known address` };
  let exp: unknown;
  try {
    exp = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')).exp;
  } catch {
    return undefined; // not a JWT: the authorizer refuses it with its own reason
  }
  if (typeof exp !== 'number') return undefined;
  const left = exp * 1000 - now;
  const min = hve.minTokenLifetimeMs ?? 600_000;
  // An expired token is the authorizer's (535); one that is about to expire is HVE's own refusal.
  if (left > 0 && left < min)
    return {
      reply: r.tokenExpiringSoon,
      reason: `HVE: token expires in ${Math.round(left / 1000)} s (< ${Math.round(min / 1000)} s)`,
    };
  return undefined;
}
