import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { _electron } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../test/helpers/temp-dir'
import { electronBinary } from './browser'

const ROOT = join(import.meta.dirname, '..')
const OUT = join(ROOT, 'out-e2e')
const binary = electronBinary(ROOT)
if (!binary)
  console.warn(
    'SKIPPED: launching the Electron app: no Electron binary here (installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1); the renderer is tested in Chromium instead',
  )

// The real app, where an Electron binary exists: the shell starts the core and opens its window.
describe.skipIf(!binary)('the Electron app', () => {
  it('starts the core and shows the console window', async () => {
    // A build of its own beside out/ (the bundle test builds out/ and may run meanwhile); at the
    // same depth, so that the icon still resolves to resources/.
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build', '--outDir', OUT],
      {
        cwd: ROOT,
        stdio: 'pipe',
      },
    )
    const data = tempDir()
    const app = await _electron.launch({
      executablePath: binary!,
      args: [join(OUT, 'main/index.js'), '--no-sandbox'],
      env: { ...process.env, FOOTFALL_DATA_DIR: data.path, FOOTFALL_INGEST_PORT: '0' },
    })
    try {
      const window = await app.firstWindow()
      await window.getByRole('heading', { name: 'Footfall' }).waitFor({ timeout: 20_000 })
      await expect(window.title()).resolves.toBe('Footfall')
    } finally {
      await app.close()
      data.cleanup()
    }
  }, 120_000)
})
