import { defineConfig } from 'vitest/config';

// Logic tests run in node (no DOM library is installed); components are exercised in a real
// browser by @org/e2e.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.spec.ts'],
    environment: 'node',
  },
});
