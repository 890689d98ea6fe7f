// A tiny browser for OP tests: a cookie jar (path-aware enough for the OP's cookies) over a
// Web handler, so tests drive authorize → login → consent → redirect as a user would.
import { Pkce } from '../../../src/core/pkce.ts'
import { randomToken } from '../../../src/core/random.ts'

export type Handler = (request: Request) => Promise<Response>

interface Cookie {
  value: string
  path: string
}

export class Browser {
  /** The last cookie set under each name (for assertions); requests use the full jar. */
  readonly cookies = new Map<string, Cookie>()
  constructor(readonly handler: Handler) {}

  /** Every cookie, keyed by name and path like a browser's jar. */
  readonly #jar = new Map<string, Cookie & { name: string }>()

  #cookieHeader(url: URL): string | undefined {
    const pairs = [...this.#jar.values()]
      .filter(
        (c) =>
          url.pathname === c.path ||
          url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`),
      )
      .map((c) => `${c.name}=${c.value}`)
    return pairs.length > 0 ? pairs.join('; ') : undefined
  }

  #store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';').map((s) => s.trim())
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq)
      const value = pair.slice(eq + 1)
      const path = attrs.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/'
      const maxAge = attrs.find((a) => a.toLowerCase().startsWith('max-age='))
      const key = `${name} ${path}`
      if (value === '' || maxAge === 'Max-Age=0') {
        this.#jar.delete(key)
        this.cookies.delete(name)
      } else {
        this.#jar.set(key, { name, value, path })
        this.cookies.set(name, { value, path })
      }
    }
  }

  /** Plants a cookie, as an attacker or an earlier visit would. */
  setCookie(name: string, value: string, path = '/'): void {
    this.#jar.set(`${name} ${path}`, { name, value, path })
    this.cookies.set(name, { value, path })
  }

  async request(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url)
    const headers = new Headers(init.headers)
    const cookie = this.#cookieHeader(target)
    if (cookie) headers.set('cookie', cookie)
    const response = await this.handler(new Request(target, { ...init, headers }))
    this.#store(response)
    return response
  }

  get(url: string | URL): Promise<Response> {
    return this.request(url)
  }

  post(url: string | URL, form: Record<string, string>): Promise<Response> {
    return this.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    })
  }
}

/** An authorization URL with PKCE S256 and state; returns what the client keeps. */
export async function authorizationUrl(
  issuer: string,
  params: Record<string, string | undefined>,
): Promise<{ url: URL; verifier: string; state: string; nonce: string }> {
  const pkce = await Pkce.generate()
  const state = randomToken()
  const nonce = randomToken()
  const url = new URL(`${issuer}/authorize`)
  const all: Record<string, string | undefined> = {
    response_type: 'code',
    scope: 'openid profile email',
    state,
    nonce,
    code_challenge: pkce.codeChallenge,
    code_challenge_method: 'S256',
    ...params,
  }
  for (const [k, v] of Object.entries(all)) if (v !== undefined) url.searchParams.set(k, v)
  return { url, verifier: pkce.codeVerifier, state, nonce }
}

/** The hidden CSRF token of a page. */
export function csrfOf(html: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(html)
  if (!m?.[1]) throw new Error('no csrf field in page')
  return m[1]
}

/** The form action of a page. */
export function actionOf(html: string): string {
  const m = /<form method="post" action="([^"]+)"/.exec(html)
  if (!m?.[1]) throw new Error('no form in page')
  return m[1].replace(/&amp;/g, '&')
}
