/**
 * The engine's own pages: the sign-in page (`GET {basePath}/signin`, a button per provider), the
 * error page of a failed login, the "Sign out?" page of `GET {basePath}/logout` and the "You are
 * signed out" page of `GET {basePath}/signed-out` (where `afterLogout` may send browsers). Styled
 * alike, themable (app name, logo, colours) and replaceable: `pages.render` may return its own
 * HTML for any page, or undefined to keep the built-in one. No script anywhere; every value is
 * escaped; the CSP allows nothing but the page's own inline style, images from this origin and
 * https, and forms posting to this origin.
 *
 * @module
 */
import type { MessageResponse } from '../core/http-message.ts'
import { configError } from './config.ts'
import { noStore } from './message.ts'

/** The look of the engine's pages. */
export interface PagesTheme {
  /** Shown as the pages' heading and title (default "Sign in"). */
  readonly appName?: string
  /** An image above the heading: a path of this site or an https URL. */
  readonly logoUrl?: string
  /** CSS hex colours (`#1f6feb`): buttons and links, page background, text. */
  readonly colors?: {
    readonly primary?: string
    readonly background?: string
    readonly text?: string
  }
}

/** One of the engine's pages, as a renderer sees it. */
export type AuthPage =
  | {
      readonly kind: 'signin'
      /** The providers, each with the URL that starts its login (`returnTo` included). */
      readonly providers: readonly { id: string; name: string; loginUrl: string }[]
    }
  | {
      readonly kind: 'error'
      readonly status: number
      /** The stable error code (docs/errors.md). */
      readonly code: string
      /** What happened, in plain language. */
      readonly message: string
      /** What to do about it. */
      readonly hint: string
    }
  | {
      readonly kind: 'logout'
      /** Where the form POSTs. */
      readonly action: string
    }
  | {
      readonly kind: 'signed-out'
      /** The sign-in page, to come back. */
      readonly signInUrl: string
    }

/** The `pages` option of `createAuthkestra`. */
export interface PagesOptions extends PagesTheme {
  /** The app's own HTML for a page (a whole document), or undefined for the built-in one. */
  readonly render?: (page: AuthPage) => string | undefined
}

const HEX = /^#[0-9A-Fa-f]{3}(?:[0-9A-Fa-f]{3})?$/

/** Checks the `pages` option at start. */
export function checkPages(pages: PagesOptions | undefined): PagesOptions {
  if (pages === undefined) return {}
  if (typeof pages !== 'object' || pages === null) throw configError('"pages" must be an object')
  if (pages.appName !== undefined && (typeof pages.appName !== 'string' || pages.appName === ''))
    throw configError('"pages.appName" must be a non-empty string')
  if (pages.logoUrl !== undefined) {
    const ok =
      typeof pages.logoUrl === 'string' &&
      ((pages.logoUrl.startsWith('/') && !pages.logoUrl.startsWith('//')) ||
        /^https:\/\/[^\s"']+$/.test(pages.logoUrl))
    if (!ok) throw configError('"pages.logoUrl" must be a path of this site or an https URL')
  }
  for (const [name, value] of Object.entries(pages.colors ?? {}))
    if (value !== undefined && !(typeof value === 'string' && HEX.test(value)))
      throw configError(`"pages.colors.${name}" must be a hex colour such as #1f6feb`)
  if (pages.render !== undefined && typeof pages.render !== 'function')
    throw configError('"pages.render" must be a function')
  return pages
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

const CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

/** The built-in document around `content`. */
function documentOf(theme: PagesTheme, title: string, content: string): string {
  const primary = theme.colors?.primary ?? '#2f5bea'
  const background = theme.colors?.background ?? '#f4f5f8'
  const text = theme.colors?.text ?? '#1b1f2a'
  const logo =
    theme.logoUrl === undefined ? '' : `<img src="${escapeHtml(theme.logoUrl)}" alt="" height="48">`
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><style>body{margin:0;font:16px/1.5 system-ui,sans-serif;background:${background};color:${text}}main{max-width:26rem;margin:12vh auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.12)}h1{font-size:1.5rem;margin:.5rem 0 1rem}.button{display:block;width:100%;box-sizing:border-box;margin:.5rem 0;padding:.7rem 1rem;border:0;border-radius:8px;background:${primary};color:#fff;font:inherit;text-align:center;text-decoration:none;cursor:pointer}a{color:${primary}}.code{color:#667;font-size:.875rem}</style></head><body><main>${logo}${content}</main></body></html>`
}

/** The built-in HTML of `page`. */
function builtIn(theme: PagesTheme, page: AuthPage): string {
  const app = theme.appName ?? 'Sign in'
  switch (page.kind) {
    case 'signin':
      return documentOf(
        theme,
        app,
        `<h1>${escapeHtml(app)}</h1>${page.providers
          .map(
            (p) =>
              `<a class="button" href="${escapeHtml(p.loginUrl)}">Continue with ${escapeHtml(p.name)}</a>`,
          )
          .join('')}`,
      )
    case 'error':
      return documentOf(
        theme,
        'Sign-in error',
        `<h1>Sign-in error</h1><p>${escapeHtml(page.message)}</p><p>${escapeHtml(page.hint)}</p><p class="code">Error code: <code>${escapeHtml(page.code)}</code></p><p><a href="/">Back to the start</a></p>`,
      )
    case 'logout':
      return documentOf(
        theme,
        'Sign out',
        `<h1>Sign out?</h1><form method="post" action="${escapeHtml(page.action)}"><button type="submit" class="button">Sign out</button></form><p><a href="/">Cancel</a></p>`,
      )
    case 'signed-out':
      return documentOf(
        theme,
        'Signed out',
        `<h1>You are signed out</h1><p>You can close this window, or sign in again.</p><a class="button" href="${escapeHtml(page.signInUrl)}">Sign in again</a><p><a href="/">Back to the start</a></p>`,
      )
  }
}

/** A page as a response: the app's renderer first, else the built-in one; never cached. */
export function pageResponse(
  pages: PagesOptions,
  page: AuthPage,
  status: number,
  cookies: readonly string[] = [],
): MessageResponse {
  const html = pages.render?.(page) ?? builtIn(pages, page)
  return noStore(
    status,
    { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP },
    html,
    cookies,
  )
}
