import { Command } from 'commander'
import { checkSalesforceSetup } from '../core/sync/sf-check'
import { describeSettings } from '../core/sync/settings'
import { addSalesforceOptions, salesforceSettings } from './salesforce-options'
import type { SalesforceOptions } from './salesforce-options'
import { InvalidArgumentError } from 'commander'

export function sfCheckCommand(): Command {
  return addSalesforceOptions(
    new Command('sf-check').description(
      'check the Salesforce connection: login, the Account external id, and every field Footfall writes; lists what the admin still has to add',
    ),
    false,
  )
    .option('--json', 'one JSON object on stdout')
    .action(async (opts: SalesforceOptions & { json?: boolean }) => {
      const settings = salesforceSettings(opts)
      if (!settings)
        throw new InvalidArgumentError(
          'set --sf-login-url (FOOTFALL_SF_LOGIN_URL) and the credentials to check',
        )
      const result = await checkSalesforceSetup(settings)
      if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`)
      else {
        const out = [
          `Salesforce: ${describeSettings(settings)}`,
          `login: ${result.login.ok ? 'ok' : 'FAILED'}, ${result.login.message}`,
        ]
        if (result.orgUsage)
          out.push(
            `API usage: ${result.orgUsage.used} of ${result.orgUsage.max} in the last 24 hours`,
          )
        if (result.login.ok) {
          out.push(
            result.missing.length === 0
              ? 'setup: complete, the sync can write everything it needs'
              : `setup: ${result.missing.length} thing(s) for the Salesforce admin to do:`,
          )
          for (const m of result.missing) out.push(`  - ${m}`)
        }
        process.stdout.write(`${out.join('\n')}\n`)
      }
      process.exitCode = !result.login.ok ? 2 : result.missing.length > 0 ? 1 : 0
    })
}
