import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

// In development the WebAdmin runs on Vite and talks to a running server through this proxy.
const apiTarget = process.env.ADMIN_API_URL ?? 'http://127.0.0.1:8025';

export default defineConfig({
  plugins: [vue()],
  // Every component is <script setup>: Vue's Options API support is dead code in the bundle
  // (vuejs.org "Compile-Time Flags": __VUE_OPTIONS_API__).
  define: { __VUE_OPTIONS_API__: 'false' },
  server: { proxy: { '/api': { target: apiTarget, changeOrigin: false } } },
  build: { outDir: 'dist', sourcemap: false, chunkSizeWarningLimit: 200 },
});
