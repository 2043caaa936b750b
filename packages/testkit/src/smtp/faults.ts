/** Scripted, deterministic fault injection for the SMTP server, one rule per protocol stage. */

/** Where in the session a fault can strike. `data-end` is the reply to the final `.` (or BDAT LAST). */
export type SmtpFaultStage = 'connect' | 'ehlo' | 'starttls' | 'auth' | 'mail' | 'rcpt' | 'data-end';

export interface SmtpFault {
  stage: SmtpFaultStage;
  /**
   * Reply sent instead of the normal one; the command then has no effect (e.g.
   * `'421 4.3.2 Service not available'`). Multi-line replies use `\r\n` between lines.
   */
  reply?: string;
  /** Hold the stage this long (real milliseconds) before answering. */
  delayMs?: number;
  /** Drop the connection (after `reply`, when both are set). */
  disconnect?: true;
  /**
   * Let the stage run normally (at `data-end`: the message is accepted and stored), then drop the
   * connection instead of sending the reply: the client cannot know the outcome. Ignores `reply`
   * and `disconnect`.
   */
  dropReply?: true;
  /** How many times the fault fires once it starts. @default 'once' */
  times?: 'once' | 'always' | number;
  /** Fire starting at the nth matching occurrence of the stage (1-based). @default 1 */
  nth?: number;
  /** Only occurrences for this mailbox (the authenticated one, or the `user=` of the AUTH attempt). */
  match?: { mailbox?: string };
}

/** A registered fault with its counters. */
export interface RegisteredSmtpFault extends SmtpFault {
  readonly id: number;
  /** Matching occurrences seen so far. */
  readonly seen: number;
  /** Times it actually fired. */
  readonly fired: number;
}

export interface SmtpFaults {
  /** Adds a fault; returns it with live counters. */
  add(fault: SmtpFault): RegisteredSmtpFault;
  /** Removes one fault, or all when called without an id. */
  clear(id?: number): void;
  /** The registered faults. */
  list(): RegisteredSmtpFault[];
}

interface FaultState extends SmtpFault {
  id: number;
  seen: number;
  fired: number;
}

export interface FaultRegistry extends SmtpFaults {
  /** Finds the fault that fires for this occurrence (first registered wins) and counts it. */
  take(stage: SmtpFaultStage, mailbox: string | undefined): SmtpFault | undefined;
}

export function createFaultRegistry(): FaultRegistry {
  let nextId = 1;
  let faults: FaultState[] = [];
  return {
    add(fault) {
      if (fault.reply !== undefined && !/^[2-5]\d\d[ -]/.test(fault.reply)) {
        throw new TypeError(`fault reply must start with a 3-digit SMTP code and a space: ${fault.reply}`);
      }
      const state: FaultState = { ...fault, id: nextId++, seen: 0, fired: 0 };
      faults.push(state);
      return state;
    },
    clear(id) {
      faults = id === undefined ? [] : faults.filter((f) => f.id !== id);
    },
    list: () => faults.slice(),
    take(stage, mailbox) {
      if (faults.length === 0) return undefined;
      let hit: FaultState | undefined;
      for (const f of faults) {
        if (f.stage !== stage) continue;
        if (f.match?.mailbox !== undefined && f.match.mailbox.toLowerCase() !== mailbox) continue;
        f.seen++;
        if (hit) continue;
        const times = f.times ?? 'once';
        const limit = times === 'always' ? Number.POSITIVE_INFINITY : times === 'once' ? 1 : times;
        if (f.seen >= (f.nth ?? 1) && f.fired < limit) {
          f.fired++;
          hit = f;
        }
      }
      return hit;
    },
  };
}
