// `node --import tsx src/cli/main.ts --issuer … --client-id …` inside the repository: the command from source.
import { main } from './login.ts'

process.exitCode = await main(process.argv.slice(2))
