/**
 * `npm start`: the demo on http://localhost:3000 (`PORT` changes it; `0` picks a free port).
 * Offline and with no configuration: the OpenID Provider it signs in with runs in this same
 * server under `/oidc`, and the engine's secret is drawn at start unless `AUTH_SECRET` is set.
 * Set GITHUB_CLIENT_ID/GITHUB_CLIENT_SECRET or GOOGLE_CLIENT_ID/GOOGLE_CLIENT_SECRET to add those
 * sign-in buttons (redirect URI `http://localhost:<port>/auth/callback/github` or `…/google`).
 *
 * Nothing secret is ever printed.
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { AuthkestraError } from '../../src/core/errors.ts'
import { allowedHostSet, checkHost, hostRefusal } from '../../src/dev-idp/host-check.ts'
import { startingResponse, toWebRequest, writeWebResponse } from '../../src/dev-idp/serve.ts'
import { createSqliteStores } from '../../src/stores/sqlite.ts'
import { createDemo } from './app.ts'
import { DEMO_USER, OP_PATH } from './identity-provider.ts'

function fail(message: string, code = 1): never {
  console.error(`authkestra demo: ${message}`)
  process.exit(code)
}

function portFromEnv(value: string | undefined): number {
  if (value === undefined || value === '') return 3000
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    fail('PORT must be an integer from 0 to 65535', 2)
  return port
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

const requestedPort = portFromEnv(process.env.PORT)
let handler: ((request: Request) => Promise<Response>) | undefined
let port = requestedPort
let origin = ''

/**
 * Every request is served as `http://localhost:<port>`: the OAuth redirect URI, the cookies and
 * the logout route's same-origin check all name that origin. A GET for the other loopback names
 * (127.0.0.1, [::1]) is redirected there; any other Host is refused with 421 before anything
 * runs, so a page that rebinds its own name to 127.0.0.1 cannot drive the demo (DNS rebinding).
 */
let hosts: { canonical: ReadonlySet<string>; aliases: ReadonlySet<string> } | undefined
const listener: RequestListener = (req: IncomingMessage, res: ServerResponse) => {
  const target = req.url ?? '/'
  if (!hosts) {
    void writeWebResponse(startingResponse(), res)
    return
  }
  const refused = checkHost(req.headers.host, hosts.canonical)
  if (refused !== undefined) {
    const alias = checkHost(req.headers.host, hosts.aliases)
    if (
      alias === undefined &&
      (req.method === 'GET' || req.method === 'HEAD') &&
      target.startsWith('/') &&
      !target.startsWith('//')
    ) {
      res.writeHead(302, { location: `${origin}${target}` }).end()
      return
    }
    const { status, headers, body } = hostRefusal(refused, origin)
    res.writeHead(status, headers).end(body)
    return
  }
  if (!handler) {
    void writeWebResponse(startingResponse(), res)
    return
  }
  if (!target.startsWith('/') || target.startsWith('//')) {
    res.writeHead(400).end()
    return
  }
  handler(toWebRequest(req, origin))
    .then((response) => writeWebResponse(response, res))
    .catch(() => {
      if (!res.headersSent) res.statusCode = 500
      res.end()
    })
}

// Loopback only. "localhost" may resolve to 127.0.0.1 or ::1: listen on both (::1 if present).
const servers = [createServer(listener)]
await listen(servers[0] as Server, requestedPort, '127.0.0.1').catch(
  (err: NodeJS.ErrnoException) => {
    fail(
      err.code === 'EADDRINUSE'
        ? `port ${requestedPort} is in use; set PORT to another one (PORT=0 picks a free port)`
        : `cannot listen on 127.0.0.1:${requestedPort} (${err.code ?? err.message})`,
    )
  },
)
port = ((servers[0] as Server).address() as { port: number }).port
hosts = {
  canonical: allowedHostSet(['localhost'], port),
  aliases: allowedHostSet(['127.0.0.1', '[::1]'], port),
}
origin = `http://localhost:${port}`
const v6 = createServer(listener)
await listen(v6, port, '::1').then(
  () => servers.push(v6),
  () => {},
)

const secret = process.env.AUTH_SECRET || randomBytes(32).toString('base64url')
// Sessions and the OP's records (clients, keys, consents) live in SQLite, so sign-ins survive a
// restart. The folder is git-ignored; DEMO_DATA_DIR moves it (the tests use a temp folder).
const dataDir = process.env.DEMO_DATA_DIR || fileURLToPath(new URL('../../.data/', import.meta.url))
mkdirSync(dataDir, { recursive: true })
const database = new Database(join(dataDir, 'demo.sqlite'))
database.pragma('journal_mode = WAL')
const stores = createSqliteStores({ database })
await stores.migrate()
// The second app ("Notes") keeps its sessions apart, in tables of its own.
const notesStores = createSqliteStores({ database, tablePrefix: 'notes_' })
await notesStores.migrate()
const opNotes: string[] = []
try {
  const demo = await createDemo({
    origin,
    secret,
    env: process.env,
    stores: { ...stores, notesSessions: notesStores.sessions },
    logger: {
      warn: (message) => opNotes.push(`Authkestra ID: ${message}`),
      error: (message) => console.error(`Authkestra ID error: ${message}`),
    },
  })
  handler = demo.handler
  const others = demo.providers.slice(1).map((p) => p.name)
  console.log(
    [
      `Authkestra demo ready: ${origin}`,
      '',
      `  Open ${origin} and sign in with Authkestra ID as ${DEMO_USER.username} / ${DEMO_USER.password}.`,
      `  Flow inspector: ${origin}/inspector`,
      `  A second app signed in through the same IdP (single sign-on and single logout): ${origin}/notes`,
      `  Authkestra ID, the OpenID Provider embedded in this server: ${origin}${OP_PATH}`,
      ...(others.length > 0 ? [`  Also signing in with: ${others.join(', ')}`] : []),
      '',
      `  Sessions are kept in SQLite (${join(dataDir, 'demo.sqlite')}): sign-ins survive a restart.`,
      process.env.AUTH_SECRET
        ? '  Using AUTH_SECRET from the environment.'
        : '  AUTH_SECRET is not set: a random secret was generated for this run.',
      ...[...demo.notes, ...opNotes].map((note) => `  Note: ${note}`),
      '  Stop with Ctrl+C.',
    ].join('\n'),
  )
} catch (err) {
  for (const server of servers) server.close()
  // Config errors name the field, never the value (AUTH_SECRET is not echoed).
  fail(err instanceof AuthkestraError ? err.message : 'could not start')
}

function stop(): void {
  for (const server of servers) {
    server.closeAllConnections()
    server.close()
  }
  process.exit(0)
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
