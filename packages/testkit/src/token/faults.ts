/**
 * Scripted, deterministic faults for the token server: each rule counts the requests it matches
 * and fires on exactly the ones its `nth`/`times` say, so a test of retry logic never depends on luck.
 */

/** What a fault does to the request it hits. */
export type TokenFaultAction =
  /** Replies with this status and an Entra-shaped error body (or `body` verbatim), plus `Retry-After` if given. */
  | { type: 'status'; status: 429 | 500 | 502 | 503 | 504; retryAfter?: number; body?: string | object }
  /** Waits `ms` of real time, then handles the request normally. */
  | { type: 'delay'; ms: number }
  /** Replies with a redirect to `location` (an absolute URL), e.g. to a host a client must not contact. */
  | { type: 'redirect'; status: 301 | 302 | 303 | 307 | 308; location: string }
  /** Replies 200 with a truncated JSON body. */
  | { type: 'malformed-json' }
  /** Destroys the connection without a reply (the client sees ECONNRESET / socket hang up). */
  | { type: 'reset' };

export interface TokenFaultMatch {
  /** The `{tenant}` path segment, as sent (case-insensitive). */
  tenant?: string;
  /** The client id of the request (body or Basic), case-insensitive. */
  clientId?: string;
  /**
   * The URL path: a string matches the whole path or its end (`/oauth2/v2.0/token` matches every
   * tenant); a RegExp is tested against the path. Without it, only token requests match.
   */
  path?: string | RegExp;
}

export interface TokenFaultSpec {
  match?: TokenFaultMatch;
  /**
   * How many times the fault fires once it starts.
   * @default 'once'
   */
  times?: 'once' | 'always' | number;
  /**
   * Start firing at the n-th matching request (1-based); earlier matches pass through.
   * @default 1
   */
  nth?: number;
  action: TokenFaultAction;
}

/** A registered fault and its counters. */
export interface TokenFault extends TokenFaultSpec {
  id: number;
  /** Matching requests seen so far. */
  seen: number;
  /** Times it fired so far. */
  fired: number;
}

export interface TokenFaults {
  /** Registers a fault; returns it (with its `id`) so a test can inspect its counters. */
  add(spec: TokenFaultSpec): TokenFault;
  /** Removes one fault by id. */
  remove(id: number): void;
  /** Removes every fault. */
  clear(): void;
  /** The registered faults, in order. */
  list(): TokenFault[];
}

/** What the server knows about a request when it asks for a fault. */
export interface FaultContext {
  path: string;
  tenant: string | undefined;
  clientId: string | undefined;
  isTokenRequest: boolean;
}

export interface FaultRegistry extends TokenFaults {
  /** Counts the request against every matching rule; returns the first rule that fires, if any. */
  take(ctx: FaultContext): TokenFault | undefined;
}

function matches(fault: TokenFault, ctx: FaultContext): boolean {
  const m = fault.match ?? {};
  if (m.path === undefined) {
    if (!ctx.isTokenRequest) return false;
  } else if (typeof m.path === 'string') {
    if (!(ctx.path === m.path || ctx.path.endsWith(m.path))) return false;
  } else if (!m.path.test(ctx.path)) {
    return false;
  }
  if (m.tenant !== undefined && m.tenant.toLowerCase() !== ctx.tenant?.toLowerCase()) return false;
  if (m.clientId !== undefined && m.clientId.toLowerCase() !== ctx.clientId?.toLowerCase()) return false;
  return true;
}

function limit(times: TokenFaultSpec['times']): number {
  if (times === undefined || times === 'once') return 1;
  if (times === 'always') return Number.POSITIVE_INFINITY;
  return times;
}

/** Describes a fault for the request log. */
export function describeFault(fault: TokenFault): string {
  const a = fault.action;
  switch (a.type) {
    case 'status':
      return `status ${a.status}${a.retryAfter !== undefined ? ` retry-after ${a.retryAfter}` : ''}`;
    case 'delay':
      return `delay ${a.ms}ms`;
    default:
      return a.type;
  }
}

export function createFaultRegistry(): FaultRegistry {
  let faults: TokenFault[] = [];
  let nextId = 1;
  return {
    add(spec) {
      if (spec.nth !== undefined && (!Number.isInteger(spec.nth) || spec.nth < 1)) {
        throw new RangeError(`fault nth must be an integer >= 1, got ${spec.nth}`);
      }
      if (typeof spec.times === 'number' && (!Number.isInteger(spec.times) || spec.times < 1)) {
        throw new RangeError(`fault times must be an integer >= 1, 'once' or 'always', got ${spec.times}`);
      }
      const fault: TokenFault = { ...spec, id: nextId++, seen: 0, fired: 0 };
      faults.push(fault);
      return fault;
    },
    remove(id) {
      faults = faults.filter((f) => f.id !== id);
    },
    clear() {
      faults = [];
    },
    list: () => [...faults],
    take(ctx) {
      let hit: TokenFault | undefined;
      for (const fault of faults) {
        if (!matches(fault, ctx)) continue;
        fault.seen += 1;
        // Every matching rule counts the request, so each rule's `nth` stays independent of the others.
        if (!hit && fault.seen >= (fault.nth ?? 1) && fault.fired < limit(fault.times)) {
          fault.fired += 1;
          hit = fault;
        }
      }
      return hit;
    },
  };
}
