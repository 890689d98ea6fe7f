// The engine's logger: every failed request is told once with its code and precise cause (never
// a request value), a refused logout token with the check that failed, unexpected errors at the
// error level, and with debug a line per answer; a logger without warn/error is refused; the
// default console logger keeps to its level.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { consoleLogger, type Logger } from '../../src/core/index.ts'
import { createAuthkestra } from '../../src/index.ts'
import { oidc } from '../../src/providers/oidc.ts'
import { code } from '../helpers/assert-code.ts'
import { APP, SECRET } from './helpers/setup.ts'

function capture(withDebug = false) {
  const lines: string[] = []
  const logger: Logger = {
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
    ...(withDebug ? { debug: (m: string) => lines.push(`debug ${m}`) } : {}),
  }
  return { lines, logger }
}

// A provider on a closed loopback port: discovery cannot be read.
const unreachable = (backchannelLogout = true) =>
  oidc({
    id: 'down',
    issuer: 'http://127.0.0.1:9',
    clientId: 'x',
    redirectUri: `${APP}/auth/callback/down`,
    backchannelLogout,
  })

describe('engine logger', () => {
  it('tells each failure once, with its code and cause, and no request values', async () => {
    const { lines, logger } = capture()
    const auth = createAuthkestra({
      providers: [unreachable()],
      secret: SECRET,
      session: {},
      logger,
    })
    const login = await auth.handler(new Request(`${APP}/auth/login/down?returnTo=/secret-path`))
    assert.equal(login.status, 502)
    const callback = await auth.handler(
      new Request(`${APP}/auth/callback/down?code=the-code-value&state=the-state-value`),
    )
    assert.equal(callback.status, 400)
    assert.equal(lines.length, 2, lines.join('\n'))
    assert.match(lines[0] ?? '', /^warn GET \/auth\/login\/down failed \(provider_unreachable\): /)
    assert.match(lines[1] ?? '', /^warn GET \/auth\/callback\/down failed \(flow_state_[a-z]+\): /)
    for (const line of lines)
      assert.doesNotMatch(line, /secret-path|the-code-value|the-state-value/)
  })

  it('keeps each failure on one line, whatever the error text holds', async () => {
    const { logFailure } = await import('../../src/engine/respond.ts')
    const { AuthkestraError } = await import('../../src/core/errors.ts')
    const { lines, logger } = capture()
    const forged = new AuthkestraError('provider_bad_response', 'bad\n[authkestra] forged line\r')
    logFailure(logger, new Request(`${APP}/auth/callback/x`), forged)
    assert.deepEqual(lines, [
      'warn GET /auth/callback/x failed (provider_bad_response): bad [authkestra] forged line ',
    ])
  })

  it('tells why a back-channel logout token was refused, which the answer does not echo', async () => {
    const { lines, logger } = capture()
    const auth = createAuthkestra({
      providers: [unreachable()],
      secret: SECRET,
      session: {},
      logger,
    })
    const response = await auth.handler(
      new Request(`${APP}/auth/backchannel-logout/down`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      }),
    )
    assert.equal(response.status, 400)
    assert.deepEqual(lines, [
      'warn back-channel logout from "down" refused: the body must be a form',
    ])
  })

  it('sends unexpected errors to error, and with debug adds a line per answer', async () => {
    const { lines, logger } = capture(true)
    const auth = createAuthkestra({
      providers: [unreachable()],
      secret: SECRET,
      session: {},
      logger,
    })
    assert.equal((await auth.handler(new Request(`${APP}/auth/session?x=secret`))).status, 401)
    assert.deepEqual(lines, ['debug GET /auth/session → 401'])
    const broken = createAuthkestra({
      providers: [unreachable(false)],
      secret: SECRET,
      session: {
        store: {
          get: () => {
            throw new TypeError('bug')
          },
        } as never,
      },
      logger,
    })
    const cookie = `ak_session=${'A'.repeat(43)}`
    const answer = await broken.handler(new Request(`${APP}/auth/session`, { headers: { cookie } }))
    assert.equal(answer.status, 500)
    assert.ok(lines.includes('error unexpected error in /auth/session'), lines.join('\n'))
  })

  it('warns about a secret that is long enough but not random', () => {
    for (const [secret, warned] of [
      ['a'.repeat(40), true],
      ['changeme'.repeat(5), true],
      [SECRET, false],
      ['0123456789abcdef'.repeat(4), false], // hex: 16 distinct
    ] as const) {
      const { lines, logger } = capture()
      createAuthkestra({ providers: [unreachable(false)], secret, session: {}, logger })
      assert.equal(lines.length, warned ? 1 : 0, secret)
      if (warned)
        assert.match(
          lines[0] ?? '',
          /^warn "secret" looks guessable \(only \d+ distinct characters\)/,
        )
      assert.ok(!lines.some((l) => l.includes(secret)), 'the secret is not printed')
    }
  })

  it('refuses a logger without warn and error', () => {
    for (const logger of [{}, { warn: () => {} }, 'console'])
      assert.throws(
        () =>
          createAuthkestra({
            providers: [unreachable()],
            secret: SECRET,
            session: {},
            logger,
          } as never),
        code('config_invalid'),
      )
  })

  it('consoleLogger prints from its level up, prefixed', () => {
    const printed: string[] = []
    const saved = { debug: console.debug, warn: console.warn, error: console.error }
    console.debug = (m: string) => printed.push(`debug ${m}`)
    console.warn = (m: string) => printed.push(`warn ${m}`)
    console.error = (m: string) => printed.push(`error ${m}`)
    try {
      for (const level of ['debug', 'warn', 'error', 'silent'] as const) {
        const logger = consoleLogger(level)
        logger.debug?.('d')
        logger.warn('w')
        logger.error('e')
      }
    } finally {
      Object.assign(console, saved)
    }
    assert.deepEqual(printed, [
      'debug [authkestra] d',
      'warn [authkestra] w',
      'error [authkestra] e',
      'warn [authkestra] w',
      'error [authkestra] e',
      'error [authkestra] e',
    ])
  })
})
