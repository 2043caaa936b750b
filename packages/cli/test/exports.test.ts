import { describe, expect, it } from 'vitest';

// Pins the programmatic API of @org/cli (the bin is the main entry point).
describe('public exports', () => {
  it('@org/cli', async () => {
    expect(Object.keys(await import('../src/index.js')).sort()).toMatchInlineSnapshot(`
      [
        "ExitCode",
        "exitCodeFor",
        "run",
      ]
    `);
  });
});
