// The testkit (fake token endpoint + SMTP server) in a process of its own, for send-api.ts: it is
// the "remote" Exchange, so neither side of the comparison pays for its CPU on the sending thread.
// Protocol (IPC): → { cmd: 'count' | 'cpu' | 'reset' | 'close', id }; ← { id, value } and, once, { ready, config }.
import { createTestEnvironment } from '@org/testkit';

const env = await createTestEnvironment({ limits: false });
process.on('message', async ({ cmd, id }) => {
  if (cmd === 'count') process.send({ id, value: env.messages().length });
  else if (cmd === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send({ id, value: (user + system) / 1000 });
  } else if (cmd === 'reset') {
    env.reset();
    process.send({ id, value: null });
  } else if (cmd === 'close') {
    await env.close();
    process.send({ id, value: null }, () => process.exit(0));
  }
});
process.send({ ready: true, config: env.config });
