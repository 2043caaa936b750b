import { afterEach, expect, it } from 'vitest';
import { createMemoryGovernor } from '../src/governor/memory.js';
import { createPostgresGovernor } from '../src/governor/postgres.js';
import type { Admission, Governor, LeaseAnswer, Mailbox } from '../src/governor/types.js';
import { openStore, type Store } from '../src/store/db.js';
import { describeDrivers, type TestStore } from './helpers/drivers.js';

/**
 * `Governor.usage` (the WebAdmin's Outbox page): what a mailbox uses now — connections held,
 * sends in the minute, recipients in 24 h — read without admitting, releasing or pruning anything.
 * PostgreSQL: read from the shared tables, so a second instance sees the first one's leases.
 */
const mailbox: Mailbox = {
  key: 'smtp.office365.com|billing@contoso.com',
  limits: { maxConnections: 3, messagesPerMinute: 3, recipientsPerDay: 10_000 },
};
const admitted = (a: Admission) => {
  if (!a.admitted) throw new Error(`refused: ${a.reason}`);
  return a;
};
const leased = (a: LeaseAnswer) => {
  if (!a.admitted) throw new Error(`refused: ${a.reason}`);
  return a.lease;
};

function clock() {
  let t = Date.parse('2026-03-02T09:00:00Z');
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describeDrivers('Governor.usage', (driver) => {
  let test: TestStore | undefined;
  let store: Store | undefined;
  const governors: Governor[] = [];
  afterEach(async () => {
    for (const g of governors.splice(0)) await g.close();
    await store?.close();
    await test?.cleanup();
    store = undefined;
    test = undefined;
  });

  if (driver.name === 'sqlite')
    it('in memory (SQLite deployments): counts held connections, the minute and the day, and changes nothing', async () => {
      const c = clock();
      const g = createMemoryGovernor({ now: c.now, lingerMs: 0 });
      expect(await g.usage(mailbox.key)).toEqual({
        connections: 0,
        messagesLastMinute: 0,
        recipientsLastDay: 0,
        backoffUntil: null,
      });
      const a = leased(await g.lease(mailbox));
      leased(await g.lease(mailbox));
      admitted(await g.admit(mailbox, 3));
      admitted(await g.admit(mailbox, 2));
      expect(await g.usage(mailbox.key)).toMatchObject({
        connections: 2,
        messagesLastMinute: 2,
        recipientsLastDay: 5,
      });
      await a.release();
      expect((await g.usage(mailbox.key)).connections).toBe(1);
      // Reading does not use up the window: the third send of the minute is still admitted, the
      // fourth refused for the rate.
      for (let i = 0; i < 5; i++) await g.usage(mailbox.key);
      admitted(await g.admit(mailbox, 1));
      expect(await g.admit(mailbox, 1)).toMatchObject({ admitted: false, reason: 'rate' });
      c.advance(61_000);
      expect(await g.usage(mailbox.key)).toMatchObject({ messagesLastMinute: 0, recipientsLastDay: 6 });
      g.throttled(mailbox);
      expect((await g.usage(mailbox.key)).backoffUntil).toBe(new Date(c.now() + 30_000).toISOString());
      c.advance(86_400_000);
      expect(await g.usage(mailbox.key)).toMatchObject({ recipientsLastDay: 0, backoffUntil: null });
      // Another mailbox is untouched.
      expect((await g.usage('other|x')).connections).toBe(0);
    });

  if (driver.name === 'postgres')
    it('a second instance sees the first one’s leases and sends; expired leases are not counted', async () => {
      test = await driver.freshStore();
      store = await openStore(test.options);
      const c = clock();
      const options = { now: c.now, leaseClock: c.now, lingerMs: 0, leaseMs: 30_000 };
      const one = createPostgresGovernor(store.db, { ...options, owner: 'one' });
      const two = createPostgresGovernor(store.db, { ...options, owner: 'two' });
      governors.push(one, two);
      const a = leased(await one.lease(mailbox));
      leased(await one.lease(mailbox));
      admitted(await one.admit(mailbox, 4));
      admitted(await one.admit(mailbox, 1));
      expect(await two.usage(mailbox.key)).toEqual({
        connections: 2,
        messagesLastMinute: 2,
        recipientsLastDay: 5,
        backoffUntil: null,
      });
      await a.release();
      expect((await two.usage(mailbox.key)).connections).toBe(1);
      // A lease whose instance died (not renewed: the clock passes its expiry) no longer counts.
      c.advance(31_000);
      expect(await two.usage(mailbox.key)).toMatchObject({
        connections: 0,
        messagesLastMinute: 2,
        recipientsLastDay: 5,
      });
      c.advance(30_000);
      expect((await two.usage(mailbox.key)).messagesLastMinute).toBe(0);
      // Backing off after a 432 is this instance's own decision.
      one.throttled(mailbox);
      expect((await one.usage(mailbox.key)).backoffUntil).not.toBeNull();
      expect((await two.usage(mailbox.key)).backoffUntil).toBeNull();
    });
});
