// Property-based fuzzing of `authkestra login` against a hostile OP on loopback: arbitrary
// arguments (known flags with odd values, unknown flags, positionals) and arbitrary answers at
// the device authorization and token endpoints (statuses, bodies that are not JSON, fields of
// the wrong type, terminal and pending errors, a printed code with control characters). The
// command never throws, ends with one of its documented exit codes (0, 1, 2, or 130 when the
// wait is aborted), never prints the client secret, prints no control characters from the OP,
// and succeeds only when the OP issued the token it was asked to print.
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { login } from '../../src/cli/login.ts'
import { NUM_RUNS } from './helpers/arbitraries.ts'

const SECRET = 'cli-secret-6b1e0f3a9d2c47e8a5f0'

interface Script {
  device: { status: number; body: string }
  token: { status: number; body: string }
}
let script: Script = { device: { status: 500, body: '' }, token: { status: 500, body: '' } }
let server: Server
let issuer = ''

before(async () => {
  server = createServer((req, res) => {
    req.resume()
    const path = new URL(req.url ?? '/', issuer).pathname
    const answer =
      path === '/.well-known/openid-configuration'
        ? {
            status: 200,
            body: JSON.stringify({
              issuer,
              authorization_endpoint: `${issuer}/authorize`,
              token_endpoint: `${issuer}/token`,
              device_authorization_endpoint: `${issuer}/device_authorization`,
              jwks_uri: `${issuer}/jwks`,
              response_types_supported: ['code'],
            }),
          }
        : path === '/device_authorization'
          ? script.device
          : path === '/token'
            ? script.token
            : { status: 404, body: '{}' }
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
after(() => {
  server.closeAllConnections()
  server.close()
})

const odd = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('', ' ', '-', '--', 'x'.repeat(300), '\u0000', 'é', '\u001b[31m'),
)
const jsonValue = fc.oneof(odd, fc.integer({ min: -5, max: 5 }), fc.constant(null), fc.boolean())

/** A device authorization answer: mostly well-shaped, with each field sometimes wrong. */
const deviceArb = fc.record({
  status: fc.constantFrom(200, 200, 200, 200, 200, 400, 401, 500, 302),
  body: fc.oneof(
    {
      weight: 12,
      arbitrary: fc
        .record(
          {
            device_code: fc.oneof(
              { weight: 5, arbitrary: fc.constant('dc-0123456789') },
              jsonValue,
            ),
            user_code: fc.oneof(
              { weight: 5, arbitrary: fc.constant('BCDF-GHJK') },
              fc.constant('AB\u001b[2JCD'),
              jsonValue,
            ),
            verification_uri: fc.oneof(
              fc.constant('http://127.0.0.1:1/device'),
              fc.constant('javascript:alert(1)'),
              jsonValue,
            ),
            verification_uri_complete: fc.oneof(
              fc.constant('http://127.0.0.1:1/device?c=1'),
              jsonValue,
            ),
            expires_in: fc.oneof({ weight: 5, arbitrary: fc.constant(600) }, jsonValue),
            interval: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, fc.constant(1), jsonValue),
          },
          { requiredKeys: ['device_code', 'user_code', 'verification_uri', 'expires_in'] },
        )
        .map((o) => JSON.stringify(o)),
    },
    fc.constantFrom('', 'not json', '[]', 'null', '{"a":'),
  ),
})

/** A token answer: tokens, a pending or terminal error, or garbage. */
const tokenArb = fc.record({
  status: fc.constantFrom(200, 200, 200, 400, 400, 401, 500),
  body: fc.oneof(
    fc
      .record(
        {
          access_token: fc.oneof({ weight: 5, arbitrary: fc.constant('at-0123456789') }, jsonValue),
          token_type: fc.oneof(fc.constantFrom('Bearer', 'bearer', 'DPoP'), jsonValue),
          expires_in: fc.oneof({ weight: 5, arbitrary: fc.constant(600) }, jsonValue),
          refresh_token: fc.oneof(
            { weight: 5, arbitrary: fc.constant('rt-0123456789') },
            jsonValue,
          ),
          scope: fc.oneof({ weight: 5, arbitrary: fc.constant('api') }, jsonValue),
        },
        { requiredKeys: ['access_token', 'token_type'] },
      )
      .map((o) => JSON.stringify(o)),
    fc
      .record({
        error: fc.constantFrom(
          'authorization_pending',
          'slow_down',
          'access_denied',
          'expired_token',
          'invalid_grant',
          'x',
        ),
        interval: fc.option(jsonValue, { nil: undefined }),
      })
      .map((o) => JSON.stringify(o)),
    fc.constantFrom('', 'not json', '[]', '{"a":'),
  ),
})

const argvArb = fc
  .record({
    issuer: fc.oneof({ weight: 12, arbitrary: fc.constant('ISSUER') }, odd),
    clientId: fc.oneof({ weight: 12, arbitrary: fc.constant('cli') }, odd),
    secret: fc.boolean(),
    insecure: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, fc.constant(false)),
    scope: fc.option(fc.constantFrom('openid', 'api', 'openid  api', 'openid', 'api', '"bad"'), {
      nil: undefined,
    }),
    print: fc.option(
      fc.constantFrom(
        'json',
        'access_token',
        'access_token',
        'json',
        'id_token',
        'refresh_token',
        'password',
      ),
      { nil: undefined },
    ),
    extra: fc.oneof(
      { weight: 5, arbitrary: fc.constant([]) },
      fc.array(fc.constantFrom('--bogus', 'positional', '--help', '--print', '-x'), {
        maxLength: 2,
      }),
    ),
  })
  .map((a) => [
    ...(a.issuer === undefined ? [] : ['--issuer', a.issuer === 'ISSUER' ? issuer : a.issuer]),
    '--client-id',
    a.clientId,
    ...(a.secret ? ['--client-secret', SECRET] : []),
    ...(a.insecure ? ['--allow-insecure-http'] : []),
    ...(a.scope === undefined ? [] : ['--scope', a.scope]),
    ...(a.print === undefined ? [] : ['--print', a.print]),
    ...a.extra,
  ])

/** How often each exit code came; printed with FUZZ_STATS=1. */
const exits = new Map<number, number>()
after(() => {
  if (process.env.FUZZ_STATS === '1') console.log('exit codes', Object.fromEntries(exits))
})

describe('authkestra login under a hostile OP and odd arguments', () => {
  it('never throws, exits 0/1/2/130, never prints the secret or OP control characters, succeeds only with the token', async () => {
    await fc.assert(
      fc.asyncProperty(argvArb, deviceArb, tokenArb, async (argv, device, token) => {
        script = { device, token }
        let out = ''
        let err = ''
        const abort = new AbortController()
        const timer = setTimeout(() => abort.abort(), 150)
        let code: number
        try {
          code = await login(argv, {
            out: (t) => {
              out += t
            },
            err: (t) => {
              err += t
            },
            env: {},
            signal: abort.signal,
          })
        } finally {
          clearTimeout(timer)
        }
        exits.set(code, (exits.get(code) ?? 0) + 1)
        assert.ok([0, 1, 2, 130].includes(code), `exit code ${code}`)
        assert.ok(!out.includes(SECRET) && !err.includes(SECRET), 'the client secret was printed')
        assert.ok(
          !(out + err.replaceAll('\u001b[31m', '')).includes('\u001b'),
          'an OP control character was printed',
        )
        if (code === 0 && !argv.includes('--help')) {
          const body = JSON.parse(token.body) as Record<string, unknown>
          assert.equal(token.status, 200)
          assert.equal(typeof body.access_token, 'string')
          const print = argv[argv.indexOf('--print') + 1] ?? 'json'
          if (print === 'access_token') assert.equal(out, `${body.access_token}\n`)
        }
      }),
      { numRuns: NUM_RUNS },
    )
  })
})
