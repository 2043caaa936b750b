// Copies the main WebAdmin screenshots from the last e2e run (test-results/, gitignored) to
// docs/screenshots/ for the README. Run after `pnpm --filter @org/e2e test`.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const from = new URL('../test-results/screenshots/', import.meta.url).pathname;
const to = new URL('../../../docs/screenshots/', import.meta.url).pathname;
// test-results name → docs name
const main = {
  '05-editor-filled.png': 'editor-microsoft365.png',
  '04-editor-validation.png': 'editor-validation.png',
  '07-server-detail.png': 'server-detail.png',
  '08-token-test.png': 'token-test.png',
  '09-diagnostics-green.png': 'diagnostics-green.png',
  '11-diagnostics-mailbox-permission.png': 'diagnostics-mailbox-permission.png',
  '11b-diagnostics-admin-consent.png': 'diagnostics-admin-consent.png',
  '13-certificate-entry.png': 'certificate-entry.png',
  '15-setup-guide.png': 'setup-guide.png',
  // Not 16-api-key-created: it shows a (throw-away) key, and docs carry no key-shaped strings.
  '17-api-keys.png': 'api-keys.png',
  '19-audit-log.png': 'audit-log.png',
  '20-phone-servers.png': 'phone-servers.png',
  // editor.test.ts, practice.test.ts and the revoked-consent test send (issue 15)
  '10b-send-test-revoked-consent.png': 'send-test-revoked-consent.png',
  '20-editor-error-summary.png': 'editor-error-summary.png',
  '21-editor-graph-scope-warning.png': 'editor-warning.png',
  '22-save-and-test-graph-scope.png': 'save-and-test.png',
  '23-last-test-outdated.png': 'last-test-outdated.png',
  '24-session-expired-dialog.png': 'session-expired-dialog.png',
  '30-practice-credentials.png': 'practice-credentials.png',
  // outbox.test.ts: counts, a mailbox's usage against its limits, messages, a retried message's attempts
  '40-outbox.png': 'outbox.png',
  // webhooks.test.ts: the key's webhook after a delivered test event (not 18-…-secret: it shows the secret)
  '19-api-key-webhook-delivered.png': 'api-key-webhook.png',
};
mkdirSync(to, { recursive: true });
let copied = 0;
for (const [source, target] of Object.entries(main)) {
  if (!existsSync(join(from, source))) {
    console.warn(`missing ${source} (its test was skipped or failed)`);
    continue;
  }
  copyFileSync(join(from, source), join(to, target));
  copied++;
}
console.log(`copied ${copied} screenshots to docs/screenshots/`);
