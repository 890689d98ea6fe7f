/**
 * The record of one login, as the flow inspector shows it. Plain JSON (it lives in the session,
 * which a persistent store will serialize), with every secret already redacted except the PKCE
 * verifier: that one is shown on purpose, after its code was redeemed, when it proves nothing
 * any more.
 *
 * @module
 */

/** Step 1: the authorization request the browser was sent to. */
export interface AuthorizationStep {
  /** When the login started (ms since the epoch). */
  readonly at: number
  /** The full authorization URL (it carries no secret: the challenge is a hash). */
  readonly url: string
}

/** Step 2: the redirect back from the provider. */
export interface CallbackStep {
  readonly at: number
  /** The callback URL with `code` redacted. */
  readonly url: string
}

/** Step 3: the token request the server made, and the answer. */
export interface TokenStep {
  readonly at: number
  readonly endpoint: string
  /** The form body as sent; `code` and client secrets redacted, `code_verifier` kept. */
  readonly params: readonly (readonly [string, string])[]
  /** How the client authenticated in headers (`Basic …` redacted), if it did. */
  readonly authorization: string | null
  readonly status: number | null
  /** The token response's members: JWTs decoded (signature removed), other tokens cut to 8 characters. */
  readonly response: readonly (readonly [string, string])[]
}

/** Step 4: what the login produced. */
export interface ResultStep {
  readonly at: number
  readonly identity: {
    readonly provider: string
    readonly issuer: string | null
    readonly subject: string
    readonly name: string | null
    readonly email: string | null
    readonly emailVerified: boolean
    readonly username: string | null
  }
  readonly tokens: {
    readonly tokenType: string
    readonly expiresAt: number | null
    readonly accessToken: string
    readonly idToken: string | null
    readonly refreshToken: string | null
    readonly scope: readonly string[] | null
  }
}

/** One login, step by step. Steps the recorder could not see are null. */
export interface FlowTrace {
  readonly provider: string
  readonly authorization: AuthorizationStep | null
  readonly callback: CallbackStep | null
  readonly token: TokenStep | null
  readonly result: ResultStep
}

/** Redacted parameters: never shown, not even in part. */
const HIDDEN = new Set(['code', 'client_secret', 'client_assertion', 'password'])

/**
 * What the inspector shows of a token. A JWT: its header and claims decoded (they are what is
 * worth reading, and no secret: the holder can decode them anyway), its signature replaced, so
 * the token cannot be put back together from the page. Anything else (an opaque token): its
 * first 8 characters and an ellipsis.
 */
export function preview(token: string): string {
  const parts = token.split('.')
  if (parts.length === 3) {
    const [header, claims] = [decodePart(parts[0] as string), decodePart(parts[1] as string)]
    if (header !== undefined && claims !== undefined)
      return `${header} . ${claims} . [signature, ${(parts[2] as string).length} characters]`
  }
  return `${token.slice(0, 8)}…`
}

/** A base64url JSON object, re-serialized compactly; undefined when it is not one. */
function decodePart(part: string): string | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? JSON.stringify(value)
      : undefined
  } catch {
    return undefined
  }
}

/** What replaces a hidden value. */
export function redacted(value: string): string {
  return `[redacted, ${value.length} characters]`
}

/** A query or form parameter as the inspector may keep it. */
export function safeParam(name: string, value: string): string {
  return HIDDEN.has(name) ? redacted(value) : value
}

/**
 * A URL with its hidden query parameters redacted, for display: the other parameters stay as
 * sent, the redacted ones read `[redacted, N characters]` (parsing it back yields that text).
 */
export function redactUrl(url: URL): string {
  const query = [...url.searchParams].map(([name, value]) => {
    const shown = HIDDEN.has(name) ? redacted(value) : encodeURIComponent(value)
    return `${encodeURIComponent(name)}=${shown}`
  })
  return `${url.origin}${url.pathname}${query.length > 0 ? `?${query.join('&')}` : ''}`
}

/** A token response's members: tokens previewed, secrets redacted, the rest as sent. */
export function redactTokenResponse(json: unknown): [string, string][] {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return []
  return Object.entries(json as Record<string, unknown>).map(([name, value]) => {
    const text = typeof value === 'string' ? value : JSON.stringify(value)
    if (/token$/.test(name)) return [name, preview(text)]
    if (/secret|code|password/.test(name)) return [name, redacted(text)]
    return [name, text]
  })
}
