import { app, BrowserWindow } from 'electron'
import { join } from 'node:path'
// electron-vite copies the asset beside the bundle and gives its path.
import icon from '../../resources/icon.png?asset'
import { CORE_DEFAULTS, startCore } from './core/core'
import type { RunningCore } from './core/core'
import { lineLogger } from './core/logger'
import { DEFAULT_API_VERSION, SYNC_DEFAULTS } from './core/sync/settings'
import { salesforceSettings, syncConfig } from './cli/salesforce-options'

/**
 * The Electron shell: it hosts the same core `footfall serve` runs, and a window on it. Nothing
 * here decides anything; settings come from the same FOOTFALL_* variables as the CLI.
 */
let core: RunningCore | null = null

async function boot(): Promise<void> {
  const env = process.env
  // The same FOOTFALL_* settings as `footfall serve`, read and checked by the same code.
  const sf = {
    sfLoginUrl: env.FOOTFALL_SF_LOGIN_URL,
    sfUsername: env.FOOTFALL_SF_USERNAME,
    sfPassword: env.FOOTFALL_SF_PASSWORD,
    sfPasswordFile: env.FOOTFALL_SF_PASSWORD_FILE,
    sfClientId: env.FOOTFALL_SF_CLIENT_ID,
    sfClientSecret: env.FOOTFALL_SF_CLIENT_SECRET,
    sfClientSecretFile: env.FOOTFALL_SF_CLIENT_SECRET_FILE,
    sfJwtKeyFile: env.FOOTFALL_SF_JWT_KEY_FILE,
    sfApiVersion: env.FOOTFALL_SF_API_VERSION ?? DEFAULT_API_VERSION,
    syncInterval: Number(env.FOOTFALL_SYNC_INTERVAL ?? SYNC_DEFAULTS.intervalMs / 1000),
    syncReserve: Number(env.FOOTFALL_SYNC_RESERVE ?? SYNC_DEFAULTS.reserveShare),
    syncBulkThreshold: Number(env.FOOTFALL_SYNC_BULK_THRESHOLD ?? SYNC_DEFAULTS.bulkThreshold),
  }
  core = await startCore({
    dataDir: env.FOOTFALL_DATA_DIR ?? join(app.getPath('userData'), 'data'),
    ingestHost: env.FOOTFALL_INGEST_HOST ?? CORE_DEFAULTS.ingestHost,
    ingestPort: Number(env.FOOTFALL_INGEST_PORT ?? CORE_DEFAULTS.ingestPort),
    ingestToken: env.FOOTFALL_INGEST_TOKEN ?? null,
    maxBodyBytes: CORE_DEFAULTS.maxBodyBytes,
    bodyTimeoutMs: CORE_DEFAULTS.bodyTimeoutMs,
    commitMaxBatch: CORE_DEFAULTS.commitMaxBatch,
    processIntervalMs:
      Number(env.FOOTFALL_PROCESS_INTERVAL ?? CORE_DEFAULTS.processIntervalMs / 1000) * 1000,
    salesforce: salesforceSettings(sf),
    sync: syncConfig(sf),
    logger: lineLogger(),
  })
  const window = new BrowserWindow({
    width: 1280,
    height: 800,
    icon,
    webPreferences: { preload: join(__dirname, '../preload/index.cjs'), sandbox: true },
  })
  const devUrl = process.env.ELECTRON_RENDERER_URL
  await (devUrl
    ? window.loadURL(devUrl)
    : window.loadFile(join(__dirname, '../renderer/index.html')))
}

app.whenReady().then(boot, (error: unknown) => {
  console.error(error)
  app.exit(1)
})

app.on('window-all-closed', () => app.quit())

// Finish what was acknowledged before the process goes: the same promise `serve` keeps.
app.on('will-quit', (event) => {
  if (!core) return
  event.preventDefault()
  const stopping = core
  core = null
  void stopping.stop().finally(() => app.exit(0))
})
