// A browser for one app origin over real HTTP: a cookie jar that honours Path (flow cookies live
// on /auth/callback/idp), manual redirects, and a timeout on every request so a hang fails fast.
import assert from 'node:assert/strict'

export const TIMEOUT_MS = 5_000

interface Cookie {
  value: string
  path: string
  attributes: string[]
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  return (
    requestPath === cookiePath ||
    (requestPath.startsWith(cookiePath) &&
      (cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/'))
  )
}

export class Browser {
  readonly cookies = new Map<string, Cookie>()
  constructor(readonly origin: string) {}

  /** `target` is absolute, or a request-target appended to the origin as-is (never resolved). */
  async fetch(target: string, init: RequestInit = {}): Promise<Response> {
    const url = new URL(/^https?:/.test(target) ? target : `${this.origin}${target}`)
    const headers = new Headers(init.headers)
    const jar = [...this.cookies]
      .filter(([, c]) => pathMatches(url.pathname, c.path))
      .map(([name, c]) => `${name}=${c.value}`)
    if (jar.length > 0) headers.set('cookie', jar.join('; '))
    const response = await fetch(url, {
      ...init,
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    })
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((s) => s.trim())
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq)
      const value = pair.slice(eq + 1)
      const path = attributes.find((a) => a.startsWith('Path='))?.slice(5) ?? '/'
      if (value === '' || attributes.includes('Max-Age=0')) this.cookies.delete(name)
      else this.cookies.set(name, { value, path, attributes })
    }
    return response
  }

  /** GET <base>/login/idp, let the (auto-login) OP answer; the callback URL it redirects to. */
  async startLogin(query = '', base = '/auth'): Promise<URL> {
    const login = await this.fetch(`${base}/login/idp${query}`)
    assert.equal(login.status, 302, `login answered ${login.status}`)
    const atOp = await fetch(login.headers.get('location') ?? '', {
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    })
    assert.ok([302, 303].includes(atOp.status), `the OP answered ${atOp.status}`)
    const callback = new URL(atOp.headers.get('location') ?? '')
    assert.equal(callback.origin, this.origin)
    return callback
  }

  /** A whole login; returns the callback's response (302 to returnTo on success). */
  async login(query = '', base = '/auth'): Promise<Response> {
    return this.fetch((await this.startLogin(query, base)).href)
  }

  session(): string | undefined {
    return this.cookies.get('ak_session')?.value
  }
}
