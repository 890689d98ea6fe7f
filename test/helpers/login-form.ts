/**
 * Plays the browser on the OP's built-in login and consent pages over real HTTP: follows the
 * authorization request to `/interaction/<uid>`, fills in the login form (username, password,
 * csrf) and, when the OP shows one, answers the consent form. Returns the redirect back to the
 * client (its `Location`), without requesting it.
 *
 * @module
 */
import assert from 'node:assert/strict'
import { CookieJar } from './cookie-jar.ts'

/** What the user does. */
export interface LoginOptions {
  readonly username: string
  readonly password: string
  /**
   * The answer on the consent page, when the OP shows one (it does not for a `skip_consent`
   * client or scopes the user already agreed to). Default `allow`.
   */
  readonly consent?: 'allow' | 'deny'
  /** The browser's cookies (default: a fresh jar, so the login form is always shown). */
  readonly jar?: CookieJar
}

/** What the pages showed, for assertions beyond the redirect. */
export interface LoginResult {
  /** The redirect to the client's `redirect_uri` (with `code` or `error`, `state`, `iss`). */
  readonly callback: URL
  /** Whether a consent page was shown. */
  readonly consentShown: boolean
}

const unescapeHtml = (value: string): string =>
  value
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')

/** The action and CSRF token of the one form of a page. */
function readForm(html: string): { action: string; csrf: string } {
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1]
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1]
  assert.ok(action, `no form action in page: ${html.slice(0, 300)}`)
  assert.ok(csrf, 'no csrf field in page')
  return { action: unescapeHtml(action), csrf: unescapeHtml(csrf) }
}

async function request(url: string | URL, jar: CookieJar, init: RequestInit = {}) {
  const headers = new Headers(init.headers)
  const cookie = jar.header()
  if (cookie !== undefined) headers.set('cookie', cookie)
  const response = await fetch(url, { ...init, headers, redirect: 'manual' })
  jar.store(response)
  return response
}

function post(fields: Record<string, string>): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  }
}

function location(response: Response, base: string | URL): URL {
  const value = response.headers.get('location')
  assert.ok(value, `expected a redirect, got ${response.status}`)
  return new URL(value, base)
}

/**
 * Logs in through the login form (and consent form) for `authorizationUrl`.
 *
 * @example
 * ```ts
 * const { callback } = await loginThroughForm(url, { username: 'alice', password: 'wonderland' })
 * const tokens = await client.authorizationCodeGrant(config, callback, checks)
 * ```
 */
export async function loginThroughForm(
  authorizationUrl: URL,
  options: LoginOptions,
): Promise<LoginResult> {
  const jar = options.jar ?? new CookieJar()
  const consent = options.consent ?? 'allow'

  const start = await request(authorizationUrl, jar)
  assert.equal(start.status, 303, 'the authorization request redirects to the login page')
  await start.body?.cancel()
  const interaction = location(start, authorizationUrl)
  assert.match(interaction.pathname, /\/interaction\/[A-Za-z0-9_-]{22}$/)

  const loginPage = await request(interaction, jar)
  assert.equal(loginPage.status, 200)
  assert.match(loginPage.headers.get('content-type') ?? '', /^text\/html/)
  const loginHtml = await loginPage.text()
  assert.match(loginHtml, /name="username"/)
  assert.match(loginHtml, /name="password"/)
  const login = readForm(loginHtml)

  const afterLogin = await request(
    login.action,
    jar,
    post({ username: options.username, password: options.password, csrf: login.csrf }),
  )
  if (afterLogin.status === 303) {
    await afterLogin.body?.cancel()
    return { callback: location(afterLogin, login.action), consentShown: false }
  }
  assert.equal(afterLogin.status, 200, 'the login form leads to the consent page or back')
  const consentHtml = await afterLogin.text()
  assert.match(consentHtml, /name="decision" value="allow"/)
  const consentForm = readForm(consentHtml)
  const done = await request(
    consentForm.action,
    jar,
    post({ csrf: consentForm.csrf, decision: consent }),
  )
  assert.equal(done.status, 303)
  await done.body?.cancel()
  return { callback: location(done, consentForm.action), consentShown: true }
}
