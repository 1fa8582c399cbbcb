#!/usr/bin/env node
// The `footfall` command. Node 20 cannot strip TypeScript types, so tsx compiles the sources on
// load; nothing needs building after `npm ci`.
import { register } from 'tsx/esm/api'

register()
await import('../src/main/cli/main.ts')
