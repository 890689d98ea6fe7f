/**
 * `authkestra dev-idp`: the embedded OP as a local identity provider, for development and for
 * automated tests of apps. Offline, in memory, one command.
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Server } from 'node:http'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { AuthkestraError } from '../core/errors.ts'
import { createMfa } from '../mfa/create-mfa.ts'
import { passkeyRpFor } from '../mfa/passkeys.ts'
import { createMemoryCredentialStore } from '../mfa/store/memory.ts'
import { createOp } from '../op/create-op.ts'
import { escapeHtml } from '../op/http/html.ts'
import { createMemoryOpStore } from '../op/store/memory.ts'
import { captchaOptions } from './captcha.ts'
import {
  checkDevIdpConfig,
  DEMO,
  DevIdpConfigError,
  type DevIdpFile,
  parseDevIdpFile,
} from './config-file.ts'
import { normalizeHost } from './host-check.ts'
import { isScenarioName, SCENARIOS, scenarioUsage, withScenario } from './scenarios.ts'
import { type MessageHandler, serve } from './serve.ts'

/** Usage text. */
export const USAGE = `Usage: authkestra dev-idp [options]

  --port <n>              port to listen on (default 9000; 0 picks a free one)
  --host <host>           interface to listen on (default 127.0.0.1)
  --issuer <url>          issuer identifier (default http://<host>:<port>)
  --config <file>         clients and users, as .json; or a .mjs/.js module whose default export
                          may also give grants, tokenExchange and deviceFlow (see docs/dev-idp.md)
                          (default: client "demo-app", user alice/wonderland)
  --auto-login <username> grant every authorization to this user, no form (for automated tests)
  --allow-host <name>     also answer requests for this Host (name or name:port; repeatable);
                          any other Host gets 421 (a defence against DNS rebinding)
  --dangerously-expose    allow a --host other than loopback (demo users become reachable)
  --log                   print a line per request (method, path, status, time; never a query)
  --scenario <name>       misbehave on purpose, to test an app's error handling (see below)
  --delay <ms>            how long slow-token waits (default 15000)
  --help                  show this text

Scenarios (each documented in docs/dev-idp.md with what an Authkestra engine answers):
${scenarioUsage()}`

/** Where the CLI writes. */
export interface CliIo {
  out(line: string): void
  err(line: string): void
}

/** A running dev IdP. */
export interface RunningDevIdp {
  readonly issuer: string
  readonly server: Server
  close(): Promise<void>
}

/** A usage or config problem: the CLI prints it and exits with code 2. */
export class CliError extends Error {
  override name = 'CliError'
}

function portOf(value: string | undefined): number {
  const port = Number(value ?? '9000')
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new CliError('"--port" must be an integer from 0 to 65535')
  return port
}

/** A module config file runs the developer's own code, the way a bundler's config does. */
async function importConfig(path: string): Promise<unknown> {
  let module: { default?: unknown }
  try {
    module = (await import(pathToFileURL(resolve(path)).href)) as { default?: unknown }
  } catch (err) {
    throw new CliError(`cannot load config module "${path}" (${(err as Error).message})`)
  }
  if (module.default === undefined) throw new CliError(`${path}: has no default export`)
  return module.default
}

async function loadFile(path: string | undefined): Promise<DevIdpFile> {
  if (path === undefined) return DEMO
  const module = /\.m?js$/.test(path)
  let text = ''
  try {
    if (!module) text = readFileSync(path, 'utf8')
  } catch {
    throw new CliError(`cannot read config file "${path}"`)
  }
  try {
    return module ? checkDevIdpConfig(await importConfig(path), true) : parseDevIdpFile(text)
  } catch (err) {
    if (err instanceof DevIdpConfigError) throw new CliError(`${path}: ${err.message}`)
    throw err
  }
}

/** Starts the dev IdP; throws {@link CliError} for bad arguments or config. */
export async function startDevIdp(
  argv: readonly string[],
  io: CliIo,
): Promise<RunningDevIdp | undefined> {
  let values: Record<string, string | string[] | boolean | undefined>
  try {
    ;({ values } = parseArgs({
      args: [...argv],
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        issuer: { type: 'string' },
        config: { type: 'string' },
        'auto-login': { type: 'string' },
        'allow-host': { type: 'string', multiple: true },
        'dangerously-expose': { type: 'boolean' },
        log: { type: 'boolean' },
        scenario: { type: 'string' },
        delay: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }))
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n\n${USAGE}`)
  }
  if (values.help) {
    io.out(USAGE)
    return undefined
  }
  const host = (values.host as string | undefined) ?? '127.0.0.1'
  if (!['127.0.0.1', 'localhost', '::1'].includes(host) && values['dangerously-expose'] !== true) {
    // Demo accounts and --auto-login must not reach the network by accident.
    throw new CliError(
      `"--host ${host}" exposes the dev IdP beyond this machine; add --dangerously-expose if you mean it`,
    )
  }
  const port = portOf(values.port as string | undefined)
  const file = await loadFile(values.config as string | undefined)
  const autoLogin = values['auto-login'] as string | undefined
  if (autoLogin !== undefined && !file.users.some((u) => u.username === autoLogin)) {
    throw new CliError(`"--auto-login" names "${autoLogin}", who is not among the users`)
  }
  const allowHosts = (values['allow-host'] as string[] | undefined) ?? []
  for (const name of allowHosts) {
    if (normalizeHost(name) === undefined)
      throw new CliError(`"--allow-host ${name}" is not a host name (give name or name:port)`)
  }
  const scenario = values.scenario as string | undefined
  if (scenario !== undefined && !isScenarioName(scenario))
    throw new CliError(
      `"--scenario ${scenario}" is not a scenario; the scenarios are: ${Object.keys(SCENARIOS).join(', ')}`,
    )
  const delayMs = Number((values.delay as string | undefined) ?? '15000')
  if (!Number.isInteger(delayMs) || delayMs < 0 || delayMs > 600_000)
    throw new CliError('"--delay" must be a number of milliseconds from 0 to 600000')
  if (values.delay !== undefined && scenario !== 'slow-token')
    throw new CliError('"--delay" only applies to "--scenario slow-token"')
  const configured = values.issuer as string | undefined
  if (configured !== undefined && !URL.canParse(configured))
    throw new CliError('"--issuer" must be an absolute URL')
  const hostForUrl = host.includes(':') ? `[${host}]` : host
  let issuer = configured ?? ''
  // Requests are refused with 421 unless their Host is the issuer's (or an --allow-host name),
  // and answered 503 with Retry-After until the OP is ready.
  let ready: (handler: MessageHandler) => void = () => {}
  let failed: (err: unknown) => void = () => {}
  const opHandler = new Promise<MessageHandler>((resolve, reject) => {
    ready = resolve
    failed = reject
  })
  const server = await serve(opHandler, {
    host,
    port,
    origin: (bound) => {
      issuer ||= `http://${hostForUrl}:${bound}`
      return issuer
    },
    allowedHosts: allowHosts,
  }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EADDRINUSE')
      throw new CliError(
        `port ${port} on ${host} is in use: pick another with --port <n> (--port 0 picks a free one)`,
      )
    throw new CliError(`cannot listen on ${host}:${port} (${err.code ?? err.message})`)
  })
  const passkeys = passkeyRpFor(issuer, 'authkestra dev-idp')
  try {
    // In memory on purpose (a dev IdP starts clean): the OP's warning about a forgotten store
    // is for apps, so the store is given explicitly.
    const store = createMemoryOpStore()
    // Second factors in memory under a secret made at start; passkeys on a host-name issuer.
    const mfa = createMfa({
      store: createMemoryCredentialStore(),
      secret: randomBytes(32),
      issuer: 'authkestra dev-idp',
      ...(passkeys ? { passkeys } : {}),
    })
    const op = await createOp({
      issuer,
      ...(file.profile ? { profile: file.profile } : {}),
      clients: file.clients,
      accounts: file.users.map(({ totp_secret: _, ...account }) => account),
      mfa,
      ...(file.dpop ? { dpop: file.dpop } : {}),
      ...(file.par ? { par: file.par } : {}),
      ...(file.devsig ? { devsig: file.devsig } : {}),
      ...(file.resources ? { resources: file.resources } : {}),
      ...(file.signingAlgs ? { signingAlgs: file.signingAlgs } : {}),
      ...(file.refreshTokens ? { refreshTokens: file.refreshTokens } : {}),
      ...(file.rateLimits ? { rateLimits: file.rateLimits } : {}),
      ...(file.trustedProxies ? { trustedProxies: file.trustedProxies } : {}),
      ...(file.captcha
        ? { captcha: captchaOptions(file.captcha, issuer, (id, ttl) => store.useOnce(id, ttl)) }
        : {}),
      ...file.code,
      store,
      ...(autoLogin === undefined ? {} : { dangerouslyAutoLogin: autoLogin }),
      logger: {
        warn: (m) => io.err(`warning: ${m}`),
        error: (m) => io.err(`error: ${m}`),
        info: (m) => io.out(m),
      },
    })
    for (const user of file.users) {
      const sub = (await store.get('username', user.username))?.sub
      if (user.totp_secret !== undefined && sub !== undefined)
        await mfa.importTotp(sub, { secret: user.totp_secret, name: 'From the config file' })
    }
    const root = new URL(issuer).pathname.replace(/\/$/, '') || '/'
    const page = issuerPage(issuer, file, scenario)
    const log = values.log === true
    const answer =
      scenario === undefined
        ? op.handleMessage
        : withScenario(op.handleMessage, scenario, {
            issuer,
            store,
            rotateKeys: () => op.rotateKeys(),
            delayMs,
          })
    ready({
      message: async (request) => {
        const started = Date.now()
        const response =
          request.method === 'GET' && request.url.pathname === root ? page : await answer(request)
        if (log)
          io.out(
            `${request.method} ${request.url.pathname} ${response.status} ${Date.now() - started}ms`,
          )
        return response
      },
    })
  } catch (err) {
    failed(err)
    server.close()
    if (err instanceof AuthkestraError && ['config_invalid', 'insecure_url'].includes(err.code))
      throw new CliError(err.message)
    throw err
  }
  io.out(`authkestra dev-idp ready: issuer ${issuer}`)
  for (const client of file.clients)
    io.out(`  client ${client.client_id}: ${(client.redirect_uris ?? []).join(', ')}`)
  if (file.users.length > 0)
    io.out(
      `  users: ${file.users.map((u) => `${u.username}${u.totp_secret ? ' (TOTP)' : ''}`).join(', ')}`,
    )
  io.out(
    passkeys
      ? `  second factors and passkeys: ${issuer}/account`
      : `  second factors: ${issuer}/account (passkeys need a host name: --issuer http://localhost:<port>)`,
  )
  if (scenario !== undefined)
    io.out(`  scenario ${scenario}: ${SCENARIOS[scenario].does} (on purpose)`)
  return {
    issuer,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** The `dev-idp` command: runs until SIGINT/SIGTERM; exit code 2 on bad arguments or config. */
export async function main(argv: readonly string[]): Promise<number> {
  const io: CliIo = {
    out: (l) => process.stdout.write(`${l}\n`),
    err: (l) => process.stderr.write(`${l}\n`),
  }
  try {
    const running = await startDevIdp(argv, io)
    if (!running) return 0
    const stop = () => void running.close().then(() => process.exit(0))
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    return await new Promise<number>(() => {})
  } catch (err) {
    if (err instanceof CliError) {
      io.err(`authkestra dev-idp: ${err.message}`)
      return 2
    }
    throw err
  }
}

/** The issuer root's page: what this IdP is, where its discovery document is, its clients. */
function issuerPage(issuer: string, file: DevIdpFile, scenario: string | undefined) {
  const discovery = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`
  const clients = file.clients
    .map(
      (c) =>
        `<li><code>${escapeHtml(c.client_id)}</code>: ${(c.redirect_uris ?? []).map((u) => `<code>${escapeHtml(u)}</code>`).join(', ')}</li>`,
    )
    .join('')
  const users = file.users.map((u) => `<code>${escapeHtml(u.username)}</code>`).join(', ')
  return {
    status: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    },
    body: `<!doctype html><html lang="en"><meta charset="utf-8"><title>authkestra dev-idp</title><body style="font:16px system-ui;margin:3rem;max-width:44rem"><h1>authkestra dev-idp</h1><p>An OpenID Provider for development, in memory. Issuer: <code>${escapeHtml(issuer)}</code></p><p>Discovery: <a href="${escapeHtml(discovery)}">${escapeHtml(discovery)}</a></p>${scenario === undefined ? '' : `<p><strong>Scenario <code>${escapeHtml(scenario)}</code></strong>: this IdP misbehaves on purpose.</p>`}<h2>Clients</h2><ul>${clients}</ul><h2>Users</h2><p>${users || 'none'}</p></body></html>`,
  }
}
