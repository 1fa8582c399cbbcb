import { Command } from 'commander'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { DEFAULT_API_VERSION } from '../core/sync/settings'
import { setupMetadataFiles } from '../core/sync/setup-metadata'
import { envOption } from './options'

export function sfMetadataCommand(): Command {
  return new Command('sf-metadata')
    .description(
      "write the Salesforce admin's setup (Account fields, Footfall_Visit__c, a permission set) as a Salesforce DX project to deploy",
    )
    .addOption(
      envOption(
        '--out <dir>',
        'folder to write the project into',
        'FOOTFALL_SF_METADATA_OUT',
      ).default('./footfall-salesforce'),
    )
    .addOption(
      envOption(
        '--sf-api-version <version>',
        'sourceApiVersion of the project',
        'FOOTFALL_SF_API_VERSION',
      ).default(DEFAULT_API_VERSION),
    )
    .action((opts: { out: string; sfApiVersion: string }) => {
      const files = setupMetadataFiles(opts.sfApiVersion)
      for (const [path, content] of files) {
        const target = join(opts.out, path)
        mkdirSync(dirname(target), { recursive: true })
        writeFileSync(target, content)
      }
      process.stdout.write(
        `wrote ${files.size} files to ${resolve(opts.out)}\ndeploy them with: cd ${opts.out} && sf project deploy start --source-dir force-app --target-org <alias>\nthen assign the "Footfall Integration" permission set to the integration user\n`,
      )
    })
}
