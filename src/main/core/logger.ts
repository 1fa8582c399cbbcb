/** The core's only way to speak; the CLI writes lines, Electron may forward them to the window. */
export interface Logger {
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

export function lineLogger(write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const line = (level: string, message: string): void => {
    write(`${new Date().toISOString()} ${level} ${message}\n`)
  }
  return {
    info: (m) => line('info', m),
    warn: (m) => line('warn', m),
    error: (m) => line('error', m),
  }
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} }
