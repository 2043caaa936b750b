import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpServer, type SmtpServer } from '../src/smtp/index.js';
import { createMapAuthorizer } from './fixtures/smtp-authorizer.js';

const run = promisify(execFile);
const MAILBOX = 'sender@contoso.com';
const TOKEN = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.interop-token.signature';

let server: SmtpServer;
let dir: string;

beforeAll(async () => {
  server = await createSmtpServer({
    authorizer: createMapAuthorizer({ [TOKEN]: MAILBOX }),
    limits: false,
  });
  dir = await mkdtemp(join(tmpdir(), 'smtp-interop-'));
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('nodemailer', () => {
  it('sends through a pooled STARTTLS + XOAUTH2 transport; content is stored and parsed', async () => {
    server.clear();
    const transport = nodemailer.createTransport({
      pool: true,
      maxConnections: 2,
      host: server.host,
      port: server.port,
      secure: false,
      requireTLS: true,
      tls: { ca: server.caPem, servername: 'localhost' },
      auth: { type: 'OAuth2', user: MAILBOX, accessToken: TOKEN },
    });
    try {
      const infos = await Promise.all(
        [1, 2, 3, 4].map((i) =>
          transport.sendMail({
            from: `Sender <${MAILBOX}>`,
            to: ['a@example.org', 'b@example.org'],
            subject: `hello ${i}`,
            text: `plain body ${i}\n.line starting with a dot`,
            html: `<p>html body ${i}</p>`,
            attachments: [{ filename: 'note.txt', content: `attachment ${i}` }],
          }),
        ),
      );
      for (const info of infos) {
        expect(info.response).toMatch(
          /^250 2\.0\.0 OK <.+> \[Hostname=BN8PR04MB6210\.namprd04\.prod\.outlook\.com\]$/,
        );
      }
      const m = await server.waitForMessage((x) => x.parsed.subject === 'hello 3');
      expect(m.parsed.text?.trim()).toBe('plain body 3\n.line starting with a dot');
      expect(m.parsed.html).toContain('<p>html body 3</p>');
      expect(m.parsed.attachments).toMatchObject([{ filename: 'note.txt', contentType: 'text/plain' }]);
      expect(m.parsed.attachments[0]?.content.toString()).toBe('attachment 3');
      expect(m.parsed.from).toEqual([{ address: MAILBOX, name: 'Sender' }]);
      expect(m.envelope).toEqual({ mailFrom: MAILBOX, rcptTo: ['a@example.org', 'b@example.org'] });
      expect(m.identity.mailbox).toBe(MAILBOX);
      expect(`<${infos[2]?.messageId.replace(/^<|>$/g, '')}>`).toBe(m.messageId);
      expect(server.messages()).toHaveLength(4);
      expect(server.authAttempts().every((a) => a.ok && a.mechanism === 'XOAUTH2')).toBe(true);
    } finally {
      transport.close();
    }
  });

  it('refuses with the exact Exchange text surfaced to nodemailer', async () => {
    const transport = nodemailer.createTransport({
      host: server.host,
      port: server.port,
      requireTLS: true,
      tls: { ca: server.caPem, servername: 'localhost' },
      auth: { type: 'OAuth2', user: MAILBOX, accessToken: 'wrong' },
    });
    await expect(
      transport.sendMail({ from: MAILBOX, to: 'a@example.org', subject: 's', text: 't' }),
    ).rejects.toMatchObject({
      code: 'EAUTH',
      response: '535 5.7.3 Authentication unsuccessful [BN8PR04MB6210.namprd04.prod.outlook.com]',
    });
    transport.close();
  });

  it('plain-no-starttls: a client requiring TLS fails and the server never sees AUTH', async () => {
    const plain = await createSmtpServer({
      authorizer: createMapAuthorizer({ [TOKEN]: MAILBOX }),
      mode: 'plain-no-starttls',
    });
    try {
      const transport = nodemailer.createTransport({
        host: plain.host,
        port: plain.port,
        requireTLS: true,
        auth: { type: 'OAuth2', user: MAILBOX, accessToken: TOKEN },
      });
      await expect(
        transport.sendMail({ from: MAILBOX, to: 'a@example.org', subject: 's', text: 't' }),
      ).rejects.toMatchObject({ code: 'ETLS' });
      transport.close();
      expect(plain.authAttempts()).toEqual([]);
      expect(plain.messages()).toEqual([]);
    } finally {
      await plain.close();
    }
  });
});

describe('curl SMTP client (--oauth2-bearer)', () => {
  async function curl(extra: string[], srv = server) {
    const caFile = join(dir, 'ca.pem');
    const mailFile = join(dir, 'mail.eml');
    await writeFile(caFile, srv.caPem ?? '');
    await writeFile(
      mailFile,
      `From: ${MAILBOX}\r\nTo: rcpt@example.org\r\nSubject: from curl\r\n\r\nHello from curl.\r\n.dot line\r\n`,
    );
    return run('curl', [
      '--silent',
      '--show-error',
      '--url',
      `smtp://127.0.0.1:${srv.port}`,
      '--ssl-reqd',
      '--cacert',
      caFile,
      '--mail-from',
      MAILBOX,
      '--mail-rcpt',
      'rcpt@example.org',
      '--upload-file',
      mailFile,
      '--user',
      MAILBOX,
      '--oauth2-bearer',
      TOKEN,
      ...extra,
    ]);
  }

  it('delivers with XOAUTH2 (what Exchange advertises)', async () => {
    server.clear();
    await curl([]);
    const m = await server.waitForMessage((x) => x.parsed.subject === 'from curl');
    expect(m.parsed.text).toContain('Hello from curl.\n.dot line');
    expect(server.authAttempts()).toMatchObject([{ ok: true, mechanism: 'XOAUTH2', mailbox: MAILBOX }]);
  });

  it('delivers with OAUTHBEARER when it is advertised', async () => {
    const bearer = await createSmtpServer({
      authorizer: createMapAuthorizer({ [TOKEN]: MAILBOX }),
      oauthBearer: true,
    });
    try {
      await curl([], bearer);
      await bearer.waitForMessage();
      expect(bearer.authAttempts()).toMatchObject([{ ok: true, mechanism: 'OAUTHBEARER', mailbox: MAILBOX }]);
    } finally {
      await bearer.close();
    }
  });

  it('fails with curl exit 67 on a refused token', async () => {
    await expect(curl(['--oauth2-bearer', 'nope'])).rejects.toMatchObject({ code: 67 });
  });
});
