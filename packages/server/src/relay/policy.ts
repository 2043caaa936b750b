import type { RelayDeviceRow } from '../store/relay-repository.js';
import { type AllowList, parseAllowList } from './allow-list.js';
import { MiB } from './replies.js';

/** Exchange Online's default maximum message size (send and receive): 150 MiB. */
export const EXCHANGE_MAX_MESSAGE_BYTES = 150 * MiB;

export type FromPolicy = 'enforce' | 'rewrite';

/** A device's rules, read from its row for each transaction (admin changes apply at once). */
export interface DevicePolicy {
  id: string;
  name: string;
  entryId: string | null;
  allowedIps: AllowList;
  /** Configured senders; empty → the entry's mailbox and `from`. */
  allowedSenders: string[];
  fromPolicy: FromPolicy;
  maxRecipientsPerMessage: number | null;
  maxRecipientsPerDay: number | null;
  maxMessageBytes: number | null;
  enabled: boolean;
}

export function devicePolicy(row: RelayDeviceRow): DevicePolicy {
  return {
    id: row.id,
    name: row.name,
    entryId: row.entry_id,
    allowedIps: parseAllowList(JSON.parse(row.allowed_ips_json) as string[]),
    allowedSenders: (JSON.parse(row.allowed_senders_json) as string[]).map((s) => s.toLowerCase()),
    fromPolicy: row.from_policy === 'rewrite' ? 'rewrite' : 'enforce',
    maxRecipientsPerMessage: row.max_recipients_per_message,
    maxRecipientsPerDay: row.max_recipients_per_day,
    maxMessageBytes: row.max_message_bytes,
    enabled: Number(row.enabled) === 1,
  };
}

/** The mailbox an entry sends as and its `from` address (the non-secret part of its config). */
export function entryAddresses(config: Record<string, unknown>): {
  mailbox: string;
  from: string | undefined;
} {
  const mailbox = String(config.user ?? '').toLowerCase();
  const fromText = typeof config.from === 'string' ? config.from : undefined;
  const from = fromText ? (/<([^>]+)>/.exec(fromText)?.[1] ?? fromText).trim().toLowerCase() : undefined;
  return { mailbox, from };
}

/** The senders a device may use: its list, or the entry's mailbox and `from`. `@domain` allows a domain. */
export function allowedSenders(policy: DevicePolicy, entry: { mailbox: string; from: string | undefined }) {
  const list =
    policy.allowedSenders.length > 0
      ? policy.allowedSenders
      : [entry.mailbox, ...(entry.from && entry.from !== entry.mailbox ? [entry.from] : [])];
  return {
    list,
    allows(address: string): boolean {
      const a = address.toLowerCase();
      const at = a.lastIndexOf('@');
      return list.some((s) => (s.startsWith('@') ? at > 0 && a.slice(at) === s : s === a));
    },
  };
}
