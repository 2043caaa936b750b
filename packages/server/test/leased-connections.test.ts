import { createMailer, parseConfig } from '@org/core';
import { createTestEnvironment, type TestEnvironment } from '@org/testkit';
import { afterEach, expect, it } from 'vitest';
import { createMemoryGovernor } from '../src/governor/memory.js';
import type { Mailbox } from '../src/governor/types.js';
import { type ConnectionSource, createLeasedConnections } from '../src/outbox/leased-connections.js';

let env: TestEnvironment | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The governed pieces over a real testkit: core's one-connection mailers as the entry's connections. */
async function setup() {
  env = await createTestEnvironment({ limits: { messagesPerMinute: false } });
  const kit = env;
  const parsed = parseConfig(kit.config);
  if (!parsed.ok) throw new Error('testkit config does not validate');
  const config = parsed.config;
  const governor = createMemoryGovernor({ lingerMs: 0 });
  const connections = createLeasedConnections({ governor, idleMs: 60_000 });
  const mailbox: Mailbox = {
    key: `127.0.0.1|${kit.mailbox.toLowerCase()}`,
    limits: { maxConnections: 3, messagesPerMinute: 1000, recipientsPerDay: 10_000 },
  };
  const source = (key: string, entryId = 'entry'): ConnectionSource => ({
    entryId,
    key,
    open: async () =>
      createMailer(config, { retry: false, limits: { maxConnections: 1, messagesPerMinute: 0 } }),
  });
  const send = async (key: string, n: number) => {
    const taken = await connections.acquire(mailbox, source(key));
    if (!taken.admitted) throw new Error(`refused: ${taken.reason}`);
    try {
      await taken.connection.send({ to: `r${n}@example.com`, subject: `m${n}`, text: 'x' });
    } finally {
      taken.connection.giveBack();
    }
  };
  const auths = () => kit.authAttempts().filter((a) => a.ok).length;
  return { kit, governor, connections, mailbox, source, send, auths };
}

it('an idle connection is reused by its runtime; a new runtime key of the entry closes the old one and gives its lease back', async () => {
  const { governor, connections, mailbox, send, auths } = await setup();
  for (let i = 0; i < 5; i++) await send('entry:v1@127.0.0.1', i);
  expect(auths()).toBe(1);
  expect(governor.leases()[mailbox.key]).toBe(1);

  // The config (or the checked address) changed: the old connection goes, the new one opens.
  await send('entry:v2@127.0.0.1', 5);
  expect(auths()).toBe(2);
  expect(connections.open()[mailbox.key]).toBe(1);
  for (let until = Date.now() + 10_000; governor.leases()[mailbox.key] !== 1 && Date.now() < until; )
    await sleep(20);
  expect(governor.leases()[mailbox.key]).toBe(1);

  await connections.closeAll();
  expect(governor.leases()[mailbox.key]).toBe(0);
  expect(connections.open()).toEqual({});
}, 60_000);

it('a 432 that still arrives: surplus idle connections close, down to the shrunk share', async () => {
  const { governor, connections, mailbox, source, auths } = await setup();
  // Three connections at once (three messages in flight), then all idle.
  const taken = await Promise.all([0, 1, 2].map(() => connections.acquire(mailbox, source('entry:v1@x'))));
  await Promise.all(
    taken.map((t, i) =>
      t.admitted ? t.connection.send({ to: `r${i}@example.com`, subject: 's', text: 'x' }) : null,
    ),
  );
  for (const t of taken) if (t.admitted) t.connection.giveBack();
  expect(auths()).toBe(3);
  expect(connections.open()[mailbox.key]).toBe(3);
  // The mailbox's three places are taken (by open, idle connections).
  expect(await governor.lease(mailbox)).toMatchObject({ admitted: false, reason: 'connections' });

  connections.throttled(mailbox);
  expect(governor.share(mailbox)).toBe(2);
  expect(connections.open()[mailbox.key]).toBe(2);
  // And no new connection or message during the backoff.
  expect(await governor.admit(mailbox, 1)).toMatchObject({ admitted: false, reason: 'backoff' });
  await connections.closeAll();
}, 60_000);

// Regression: each refused retry closed one more idle connection of the other entry while the first
// close was still giving its place back (two closed for one place).
it('another entry of the same mailbox: its idle connection is closed to make room, then this entry gets a lease', async () => {
  const { connections, mailbox, source } = await setup();
  const taken = await Promise.all([0, 1, 2].map(() => connections.acquire(mailbox, source('a:v1@x', 'a'))));
  for (const t of taken) if (t.admitted) t.connection.giveBack();
  expect(connections.open()[mailbox.key]).toBe(3);
  expect(await connections.acquire(mailbox, source('b:v1@x', 'b'))).toMatchObject({
    admitted: false,
    reason: 'connections',
  });
  let next = await connections.acquire(mailbox, source('b:v1@x', 'b'));
  for (let until = Date.now() + 10_000; !next.admitted && Date.now() < until; ) {
    await sleep(20);
    next = await connections.acquire(mailbox, source('b:v1@x', 'b'));
  }
  expect(next.admitted).toBe(true);
  expect(connections.open()[mailbox.key]).toBe(3);
  await connections.closeAll();
}, 60_000);
