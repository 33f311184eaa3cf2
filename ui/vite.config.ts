/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';

// `npm run dev` proxies /api to a running `berth-desktop --serve 127.0.0.1:7680`
// (set BERTH_SERVE to another address); open the page with `?token=TOKEN`.
const serve = process.env.BERTH_SERVE ?? 'http://127.0.0.1:7680';

export default defineConfig({
  plugins: [svelte(), ...(process.env.VITEST ? [svelteTesting()] : [])],
  base: './',
  clearScreen: false,
  server: {
    port: 5173,
    strictPort: true,
    // --serve answers only to its own Host and Origin: the proxy sends the target's Host and
    // no Origin (the dev page authenticates with its bearer token, which no other site has).
    proxy: {
      '/api': {
        target: serve,
        changeOrigin: true,
        configure: (proxy) => proxy.on('proxyReq', (req) => req.removeHeader('origin')),
      },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.ts'],
  },
});
