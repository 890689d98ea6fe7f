/**
 * `authkestra login`: a token from any OpenID Provider (ours included) through the Device
 * Authorization Grant (RFC 8628), the way a developer gets one for a script or a curl. It prints
 * where to go and the code on stderr, waits for the person (Ctrl-C stops it), then prints the
 * tokens as JSON on stdout, or one of them with `--print`. Exit codes: 0 tokens, 1 refused,
 * expired or failed (the stable error code is printed), 2 usage, 130 interrupted.
 *
 * @module
 */
import { parseArgs } from 'node:util'
import { DeviceFlow } from '../client/device-flow.ts'
import { AuthkestraError } from '../core/errors.ts'

/** Usage text. */
export const LOGIN_USAGE = `Usage: authkestra login --issuer <url> --client-id <id> [options]

Signs in through the device flow (RFC 8628) and prints the tokens.

  --issuer <url>          the OpenID Provider (its discovery document is read)
  --client-id <id>        a client registered for urn:ietf:params:oauth:grant-type:device_code
  --client-secret <s>     for a confidential client (or set AUTHKESTRA_CLIENT_SECRET)
  --scope <scopes>        space-separated (default "openid profile email")
  --print <what>          json (default), access_token, id_token or refresh_token
  --allow-insecure-http   accept http:// endpoints off loopback (never in production)
  --help                  show this text`

const PRINTS = ['json', 'access_token', 'id_token', 'refresh_token'] as const

/** Where the command writes, and what it may read of the environment. */
export interface LoginIo {
  out(text: string): void
  err(text: string): void
  readonly env: Readonly<Record<string, string | undefined>>
  /** Aborts the wait (SIGINT in the real command). */
  readonly signal?: AbortSignal
}

/** Runs `authkestra login`; resolves with the exit code. */
export async function login(argv: readonly string[], io: LoginIo): Promise<number> {
  let values: Record<string, string | boolean | undefined>
  try {
    ;({ values } = parseArgs({
      args: [...argv],
      options: {
        issuer: { type: 'string' },
        'client-id': { type: 'string' },
        'client-secret': { type: 'string' },
        scope: { type: 'string' },
        print: { type: 'string' },
        'allow-insecure-http': { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }))
  } catch (err) {
    io.err(`authkestra login: ${(err as Error).message}\n\n${LOGIN_USAGE}\n`)
    return 2
  }
  if (values.help) {
    io.out(`${LOGIN_USAGE}\n`)
    return 0
  }
  const issuer = values.issuer as string | undefined
  const clientId = values['client-id'] as string | undefined
  const print = (values.print as string | undefined) ?? 'json'
  const usage = (message: string) => {
    io.err(`authkestra login: ${message}\n\n${LOGIN_USAGE}\n`)
    return 2
  }
  if (issuer === undefined || !URL.canParse(issuer)) return usage('"--issuer" must be a URL')
  if (clientId === undefined || clientId === '') return usage('"--client-id" is required')
  if (!(PRINTS as readonly string[]).includes(print))
    return usage(`"--print" must be one of ${PRINTS.join(', ')}`)
  const secret = (values['client-secret'] as string | undefined) ?? io.env.AUTHKESTRA_CLIENT_SECRET
  const scope = values.scope as string | undefined
  try {
    const device = new DeviceFlow({
      id: 'cli',
      issuer,
      clientId,
      ...(secret === undefined || secret === '' ? {} : { clientSecret: secret }),
      ...(values['allow-insecure-http'] === true ? { allowInsecureHttp: true } : {}),
    })
    const started = await device.start(
      scope === undefined ? {} : { scopes: scope.split(' ').filter(Boolean) },
    )
    io.err(
      `To sign in, open ${started.verificationUri} and enter the code ${started.userCode}\n${
        started.verificationUriComplete ? `(or open ${started.verificationUriComplete})\n` : ''
      }Waiting for you to approve…\n`,
    )
    const { tokens, identity } = await device.poll(started, io.signal ? { signal: io.signal } : {})
    if (identity) io.err(`Signed in as ${identity.username ?? identity.subject}.\n`)
    if (print === 'json') {
      const { raw } = tokens
      io.out(`${JSON.stringify(raw, null, 2)}\n`)
      return 0
    }
    const value = {
      access_token: tokens.accessToken,
      id_token: tokens.idToken,
      refresh_token: tokens.refreshToken,
    }[print as 'access_token' | 'id_token' | 'refresh_token']
    if (value === undefined) {
      io.err(`authkestra login: the provider issued no ${print}\n`)
      return 1
    }
    io.out(`${value}\n`)
    return 0
  } catch (err) {
    if (io.signal?.aborted) {
      io.err('authkestra login: interrupted\n')
      return 130
    }
    if (err instanceof AuthkestraError) {
      io.err(`authkestra login: ${err.message} (${err.code})\n`)
      return err.code === 'config_invalid' || err.code === 'insecure_url' ? 2 : 1
    }
    throw err
  }
}

/** The command as the bin runs it: SIGINT aborts the wait. */
export async function main(argv: readonly string[]): Promise<number> {
  const controller = new AbortController()
  const onSigint = () => controller.abort(new Error('interrupted'))
  process.once('SIGINT', onSigint)
  try {
    return await login(argv, {
      out: (t) => process.stdout.write(t),
      err: (t) => process.stderr.write(t),
      env: process.env,
      signal: controller.signal,
    })
  } finally {
    process.removeListener('SIGINT', onSigint)
  }
}
