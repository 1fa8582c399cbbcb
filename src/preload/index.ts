import { contextBridge } from 'electron'

/**
 * The bridge between the window and the main process. It exposes plain data only; the typed
 * console API (invoke/subscribe) is added here when the console lands.
 */
contextBridge.exposeInMainWorld('footfall', {
  platform: 'electron' as const,
})
