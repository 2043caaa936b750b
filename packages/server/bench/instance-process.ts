// One server instance in a process of its own, for figure (c) of outbox.ts: instances of a
// deployment are separate processes sharing one PostgreSQL, so each gets its own event loop here too.
// Started with `--import tsx`; settings in BENCH_INSTANCE (JSON: databaseUrl, key, concurrency, pollMs).
// Protocol (IPC): ← { ready } once; → { cmd: 'start' | 'cpu' | 'close', id }; ← { id, value? }
// (`cpu`: this process's CPU time so far, ms — main thread, mailer thread and all).
import { randomBytes } from 'node:crypto';
import { silentLogger } from '../src/logger.js';
import { createKeyRing } from '../src/secrets/keyring.js';
import { createServer } from '../src/server.js';

const settings = JSON.parse(process.env.BENCH_INSTANCE ?? '{}') as {
  databaseUrl: string;
  key: string;
  concurrency: number;
  pollMs: number;
};
const server = await createServer({
  store: { databaseUrl: settings.databaseUrl },
  keyRing: createKeyRing([{ id: 'b', key: Buffer.from(settings.key, 'base64') }]),
  logger: silentLogger,
  admin: { password: randomBytes(12).toString('base64url') },
  adminUiDir: false,
  passwordHashing: { N: 2 ** 10, r: 8, p: 1 },
  tokenHostAllowlist: ['127.0.0.1'],
  smtp: { allowedAddresses: ['127.0.0.1'] },
  runtime: { mailer: { limits: false } },
  outbox: { deliver: false, concurrency: settings.concurrency, pollMs: settings.pollMs },
});
process.on('message', async ({ cmd, id }: { cmd: 'start' | 'cpu' | 'close'; id: number }) => {
  if (cmd === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send!({ id, value: (user + system) / 1000 });
  } else if (cmd === 'start') {
    await server.context.outbox.start();
    process.send!({ id });
  } else if (cmd === 'close') {
    await server.close();
    process.send!({ id }, () => process.exit(0));
  }
});
process.send!({ ready: true });
