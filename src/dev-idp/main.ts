// `npm run dev-idp -- <args>` inside the repository: the same command, run from source.
import { main } from './cli.ts'

process.exitCode = await main(process.argv.slice(2))
