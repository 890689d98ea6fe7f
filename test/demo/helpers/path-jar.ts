// One browser's cookies for one origin, path-aware (RFC 6265 §5.1.4 path matching, default path
// from the request), because the demo app and its OP share the origin: the flow cookie lives on
// /auth/callback/authkestra, the OP's session on /oidc and its interaction binding on
// /oidc/interaction/<uid>, the app's session on /. (test/helpers/cookie-jar.ts keeps cookies by
// name only, and test/helpers/login-form.ts asks it for one Cookie header whatever the URL, so
// this browser drives the OP's login form itself.)
interface Cookie {
  readonly name: string
  readonly value: string
  readonly path: string
}

/** RFC 6265 §5.1.4: the default path is the request path up to its last `/`. */
function defaultPath(url: URL): string {
  const path = url.pathname
  const last = path.lastIndexOf('/')
  return last <= 0 ? '/' : path.slice(0, last)
}

/** RFC 6265 §5.1.4 path-match. */
function pathMatches(cookiePath: string, requestPath: string): boolean {
  if (cookiePath === requestPath) return true
  if (!requestPath.startsWith(cookiePath)) return false
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/'
}

/** Cookies by (name, path). */
export class PathCookieJar {
  readonly #cookies = new Map<string, Cookie>()

  /** Takes the `Set-Cookie` headers of the response to a request for `url`. */
  store(response: Response, url: URL): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';')
      const eq = pair.indexOf('=')
      if (eq < 1) continue
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      let path = defaultPath(url)
      let expired = false
      for (const attribute of attributes) {
        const [key = '', val = ''] = attribute.split('=').map((s) => s.trim())
        const k = key.toLowerCase()
        if (k === 'path' && val.startsWith('/')) path = val
        if (k === 'max-age') expired = Number(val) <= 0
        if (k === 'expires') expired = Date.parse(val) <= Date.now()
      }
      const key = `${name}\n${path}`
      if (expired) this.#cookies.delete(key)
      else this.#cookies.set(key, { name, value, path })
    }
  }

  /** The `Cookie` header for a request to `url` (longer paths first), or undefined. */
  header(url: URL): string | undefined {
    const matching = [...this.#cookies.values()]
      .filter((c) => pathMatches(c.path, url.pathname))
      .sort((a, b) => b.path.length - a.path.length)
    return matching.length === 0
      ? undefined
      : matching.map((c) => `${c.name}=${c.value}`).join('; ')
  }

  /** Names of the cookies a request to `url` would carry. */
  names(url: URL): string[] {
    return (this.header(url) ?? '')
      .split('; ')
      .filter(Boolean)
      .map((c) => c.slice(0, c.indexOf('=')))
  }
}

/** A browser without JavaScript: a path-aware jar, no automatic redirects. */
export class HttpBrowser {
  readonly jar = new PathCookieJar()
  constructor(readonly origin: string) {}

  /** Requests `path` (or an absolute URL) with the jar's cookies; stores what comes back. */
  async request(path: string | URL, init: RequestInit = {}): Promise<Response> {
    const url = new URL(path, this.origin)
    const headers = new Headers(init.headers)
    const cookie = this.jar.header(url)
    if (cookie !== undefined) headers.set('cookie', cookie)
    const response = await fetch(url, { ...init, headers, redirect: 'manual' })
    this.jar.store(response, url)
    return response
  }

  /** POSTs a form as a browser does (same-origin `Origin`). */
  post(path: string | URL, fields: Record<string, string>): Promise<Response> {
    return this.request(path, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: this.origin,
      },
      body: new URLSearchParams(fields).toString(),
    })
  }

  /** GET, and the body as text. */
  async page(path: string | URL): Promise<{ response: Response; html: string }> {
    const response = await this.request(path)
    return { response, html: await response.text() }
  }
}

/** The action and fields (hidden and named buttons) of the one POST form of a page. */
export function readForm(html: string, base: URL): { action: URL; fields: Record<string, string> } {
  const form = /<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/.exec(html)
  if (!form?.[1]) throw new Error(`no POST form in page: ${html.slice(0, 300)}`)
  const fields: Record<string, string> = {}
  for (const m of (form[2] ?? '').matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
    fields[unescapeHtml(m[1] as string)] = unescapeHtml(m[2] as string)
  return { action: new URL(unescapeHtml(form[1]), base), fields }
}

/** Undoes the escaping of the OP's and the demo's pages. */
export function unescapeHtml(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
}
