#!/usr/bin/env node
// The `authkestra` command. Subcommands: dev-idp.
const [command, ...rest] = process.argv.slice(2)
if (command === 'dev-idp') {
  const { main } = await import('../dist/dev-idp/cli.js')
  process.exitCode = await main(rest)
} else {
  process.stderr.write(
    'Usage: authkestra dev-idp [options]   (authkestra dev-idp --help for options)\n',
  )
  process.exitCode = command === undefined || command === '--help' ? 0 : 2
}
