/**
 * `POST /interaction/:uid/login`: the password step. Its limits come first (per client address
 * and per username or known browser, `limits.ts`: a refused attempt costs no password hash),
 * then the password check, a few at a time (scrypt runs on a small thread pool); a failure
 * spends both limits, a success forgets the username's and remembers the browser.
 *
 * @module
 */
import { addCookie, isOpResponse, type OpRequest, type OpResponse } from '../../http/message.ts'
import type { Limited } from '../../limits.ts'
import type { OpRuntime } from '../../setup.ts'
import type { InteractionRecord } from '../../store/types.ts'
import { failedAttempt, postedForm, render } from './index.ts'
import { rememberBrowser, usernameSubject } from './known-browser.ts'
import { proceed } from './second-factor.ts'

/** Bounds concurrent password checks (scrypt runs on a small thread pool). */
function limiter(max: number, queue: number) {
  let running = 0
  const waiting: (() => void)[] = []
  return async <T>(task: () => Promise<T>): Promise<T | 'busy'> => {
    if (running >= max) {
      if (waiting.length >= queue) return 'busy'
      await new Promise<void>((resolve) => waiting.push(resolve))
    }
    running++
    try {
      return await task()
    } finally {
      running--
      waiting.shift()?.()
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
  const form = await postedForm(request, uid, deps)
  if (isOpResponse(form)) return form
  const { params, record } = form
  const username = params.get('username') ?? ''
  const password = params.get('password') ?? ''
  const address = deps.clientAddress(request)
  const named = username !== '' && username.length <= 256
  const user = named ? await usernameSubject(request, username, deps) : undefined
  const limited =
    (await deps.limits.check('passwordPerIp', address)) ??
    (await deps.limits.check('passwordPerUsername', user))
  if (limited) return tooManyAttempts(uid, record, deps, limited, username)
  const limit = passwordChecks.get(deps) ?? limiter(4, 64)
  passwordChecks.set(deps, limit)
  const sub =
    named && password ? await limit(() => deps.accounts.authenticate(username, password)) : null
  if (sub === 'busy')
    return render(uid, record, deps, {
      error: 'Too many sign-in attempts right now. Please try again.',
      username,
      status: 503,
    })
  if (sub === null) {
    await deps.limits.spend('passwordPerIp', address)
    await deps.limits.spend('passwordPerUsername', user)
    return failedAttempt(uid, record, deps, { error: 'Invalid username or password.', username })
  }
  await deps.limits.reset('passwordPerUsername', user)
  const response = await proceed(request, uid, record, sub, ['pwd'], deps)
  return addCookie(response, await rememberBrowser(request, username, deps))
}

/** Over a password limit: the login page again, 429 with `Retry-After`; nothing was checked. */
async function tooManyAttempts(
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
  })
  return { ...response, headers: { ...response.headers, 'retry-after': String(wait) } }
}
