import { resolve } from 'node:path'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'electron-vite'

// The Electron shell: main (thin glue over the Node core), preload (the typed bridge) and the
// React renderer. The core itself never needs this build: it runs under plain Node.
export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          // The ingest writer runs in a worker thread; it is loaded from beside index.js.
          'commit-worker': resolve(__dirname, 'src/main/core/store/commit-worker.ts'),
          // Processing runs on its own thread and connection too.
          'processing-worker': resolve(__dirname, 'src/main/core/processing/processing-worker.ts'),
          // A rebuild computes customers on a second thread, started by the processing one.
          'rebuild-ahead-worker': resolve(
            __dirname,
            'src/main/core/processing/rebuild-ahead-worker.ts',
          ),
        },
      },
    },
  },
  preload: {
    // A sandboxed preload must be CommonJS.
    build: {
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    build: { rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } } },
    plugins: [react()],
  },
})
