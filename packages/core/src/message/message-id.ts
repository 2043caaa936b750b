import { randomUUID } from 'node:crypto';
import { expectMessageString } from '../internal/guard.js';

/**
 * A new RFC 5322 Message-ID, `<uuid@domain>`. The domain is the sender's (so the id reads as the
 * sender's own), or `smtp-oauth.invalid` when the address has none.
 */
export function createMessageId(senderAddress: string): string {
  expectMessageString(senderAddress, 'senderAddress');
  const at = senderAddress.lastIndexOf('@');
  const domain = at >= 0 ? senderAddress.slice(at + 1).trim() : '';
  return `<${randomUUID()}@${/^[A-Za-z0-9.-]+$/.test(domain) ? domain : 'smtp-oauth.invalid'}>`;
}
