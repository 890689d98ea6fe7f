#!/usr/bin/env node
// The `authkestra` command. Subcommands: dev-idp, login. Also --version and --help.
import { readFileSync } from 'node:fs'

const USAGE = `Usage: authkestra <command> [options]

Commands:
  dev-idp     a local OpenID Provider, in memory, offline (authkestra dev-idp --help)
  login       a token from any OpenID Provider by the device flow (authkestra login --help)

Options:
  --version   print the version
  --help      print this help
`
const [command, ...rest] = process.argv.slice(2)
if (command === 'dev-idp') {
  const { main } = await import('../dist/dev-idp/cli.js')
  process.exitCode = await main(rest)
} else if (command === 'login') {
  const { main } = await import('../dist/cli/login.js')
  process.exitCode = await main(rest)
} else if (command === '--version' || command === '-v') {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`${pkg.version}\n`)
} else if (command === undefined || command === '--help' || command === '-h') {
  process.stdout.write(USAGE)
} else {
  process.stderr.write(`authkestra: unknown command "${command}"\n\n${USAGE}`)
  process.exitCode = 2
}
