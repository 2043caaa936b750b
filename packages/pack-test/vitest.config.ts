import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // npm installs real packages from the registry; sized for a busy CI machine.
    testTimeout: 600_000,
    hookTimeout: 900_000,
  },
});
