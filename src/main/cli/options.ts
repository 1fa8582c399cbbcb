import { InvalidArgumentError, Option } from 'commander'
import { readFileSync, statSync } from 'node:fs'

/** An option that can also be set from the environment, as every `footfall` setting can. */
export function envOption(flags: string, description: string, env: string): Option {
  return new Option(flags, description).env(env)
}

export function parsePort(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new InvalidArgumentError(`'${value}' is not a port (0-65535; 0 picks a free one)`)
  }
  return n
}

export function parsePositiveInt(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`'${value}' is not a positive whole number`)
  return n
}

/**
 * Reads a secret from a file that only its owner may read, so that it stays out of `ps`, shell
 * history and the environment of child processes.
 */
export function readSecretFile(path: string): string {
  const mode = statSync(path).mode
  if ((mode & 0o077) !== 0) {
    throw new InvalidArgumentError(
      `${path} can be read by others (mode ${(mode & 0o777).toString(8)}): run \`chmod 600 ${path}\``,
    )
  }
  const secret = readFileSync(path, 'utf8').trim()
  if (!secret) throw new InvalidArgumentError(`${path} is empty`)
  return secret
}
