import react from '@vitejs/plugin-react'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { build } from 'vite'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../test/helpers/temp-dir'
import { CHROMIUM, CHROMIUM_ARGS, serveStatic } from './browser'

const ROOT = join(import.meta.dirname, '..')
const hasChromium = existsSync(CHROMIUM)
if (!hasChromium)
  console.warn(
    `SKIPPED: the browser tests need Debian's Chromium at ${CHROMIUM} (apt-get install -y chromium)`,
  )

// The renderer as a browser gets it: built by Vite, served over HTTP, opened in real Chromium.
describe.skipIf(!hasChromium)('the renderer in Chromium', () => {
  it('builds, loads over HTTP and renders its shell without a console error', async () => {
    const out = tempDir()
    await build({
      configFile: false,
      root: join(ROOT, 'src/renderer'),
      base: './',
      plugins: [react()],
      logLevel: 'silent',
      build: { outDir: out.path, emptyOutDir: true },
    })
    const site = await serveStatic(out.path)
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
    try {
      const page = await browser.newPage()
      const problems: string[] = []
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text())
      })
      page.on('pageerror', (e) => problems.push(e.message))
      await page.goto(site.url)
      await expect(page.title()).resolves.toBe('Footfall')
      await page.getByRole('heading', { name: 'Footfall' }).waitFor({ timeout: 10_000 })
      await expect(page.getByText('npx footfall serve').count()).resolves.toBe(1)
      expect(problems).toEqual([])
    } finally {
      await browser.close()
      await site.close()
      out.cleanup()
    }
  })
})
