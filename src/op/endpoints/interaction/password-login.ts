/**
 * `POST /interaction/:uid/login`: the password step. Its limits come first (per client address
 * and per username or known browser, `limits.ts`: a refused attempt costs no password hash),
 * then the bot check when one is due (`captcha.ts`), then the password check, a few at a time and at most two per address (scrypt runs on a small
 * thread pool, and a flood must not queue ahead of everyone else); a failure
 * spends both limits, a success forgets the username's and remembers the browser.
 *
 * @module
 */
import { addressBucket } from '../../../core/client-ip.ts'
import { addCookie, isOpResponse, type OpRequest, type OpResponse } from '../../http/message.ts'
import type { Limited } from '../../limits.ts'
import type { OpRuntime } from '../../setup.ts'
import type { InteractionRecord } from '../../store/types.ts'
import { CAPTCHA_FAILED, captchaPassed } from './captcha.ts'
import { failedAttempt, postedForm, render } from './index.ts'
import { rememberBrowser, usernameSubject } from './known-browser.ts'
import { proceed } from './second-factor.ts'

/**
 * Bounds password checks (scrypt runs on a small thread pool): `max` at once, `queue` waiting,
 * and at most `perAddress` running or waiting for one client address, so an attacker's backlog
 * never stands between another address and its check (a legitimate user waits behind at most
 * `perAddress` checks of each busy address, not behind a whole flood).
 */
function limiter(max: number, queue: number, perAddress: number) {
  let running = 0
  const waiting: (() => void)[] = []
  const held = new Map<string, number>()
  return async <T>(address: string | undefined, task: () => Promise<T>): Promise<T | 'busy'> => {
    const mine = address === undefined ? 0 : (held.get(address) ?? 0)
    if (mine >= perAddress || (running >= max && waiting.length >= queue)) return 'busy'
    if (address !== undefined) held.set(address, mine + 1)
    try {
      if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve))
      running++
      try {
        return await task()
      } finally {
        running--
        waiting.shift()?.()
      }
    } finally {
      if (address !== undefined) {
        const left = (held.get(address) ?? 1) - 1
        if (left === 0) held.delete(address)
        else held.set(address, left)
      }
    }
  }
}
const passwordChecks = new WeakMap<OpRuntime, ReturnType<typeof limiter>>()

/** Checks a username and password posted to interaction `uid`. */
export async function passwordLogin(
  request: OpRequest,
  uid: string,
  deps: OpRuntime,
): Promise<OpResponse> {
  const address = deps.clientAddress(request)
  let user: string | undefined
  // The limits come before the CSRF token is spent or a sealed interaction stored: a refused
  // attempt writes nothing.
  const form = await postedForm(request, uid, deps, async (params, record) => {
    const username = params.get('username') ?? ''
    user =
      username !== '' && username.length <= 256
        ? await usernameSubject(request, username, deps)
        : undefined
    const limited =
      (await deps.limits.check('passwordPerIp', address)) ??
      (await deps.limits.check('passwordPerUsername', user))
    return limited ? tooManyAttempts(request, uid, record, deps, limited, username) : undefined
  })
  if (isOpResponse(form)) return form
  const { params, record } = form
  const username = params.get('username') ?? ''
  const password = params.get('password') ?? ''
  const named = user !== undefined
  if (!(await captchaPassed(request, record, params, deps)))
    return failedAttempt(uid, record, deps, {
      error: CAPTCHA_FAILED,
      username,
      status: 400,
      request,
    })
  const limit = passwordChecks.get(deps) ?? limiter(4, 64, 2)
  passwordChecks.set(deps, limit)
  const bucket = address === undefined ? undefined : addressBucket(address)
  const sub =
    named && password
      ? await limit(bucket, () => deps.accounts.authenticate(username, password))
      : null
  if (sub === 'busy') {
    const page = await render(uid, record, deps, {
      error: 'Too many sign-in attempts right now. Please try again.',
      username,
      status: 503,
      request,
    })
    return { ...page, headers: { ...page.headers, 'retry-after': '1' } }
  }
  if (sub === null) {
    await deps.limits.spend('passwordPerIp', address)
    await deps.limits.spend('passwordPerUsername', user)
    return failedAttempt(uid, record, deps, {
      error: 'Invalid username or password.',
      username,
      request,
    })
  }
  await deps.limits.reset('passwordPerUsername', user)
  const response = await proceed(request, uid, record, sub, ['pwd'], deps)
  return addCookie(response, await rememberBrowser(request, username, deps))
}

/** Over a password limit: the login page again, 429 with `Retry-After`; nothing was checked. */
async function tooManyAttempts(
  request: OpRequest,
  uid: string,
  record: InteractionRecord,
  deps: OpRuntime,
  limited: Limited,
  username: string,
): Promise<OpResponse> {
  const wait = limited.retryAfterSeconds
  const response = await render(uid, record, deps, {
    error: `Too many failed sign-in attempts. Try again in ${wait < 120 ? `${wait} seconds` : `${Math.ceil(wait / 60)} minutes`}.`,
    username,
    status: 429,
    request,
  })
  return { ...response, headers: { ...response.headers, 'retry-after': String(wait) } }
}
