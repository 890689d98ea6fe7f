/**
 * The RP-Initiated Logout 1.0 request (§2): the provider's `end_session_endpoint` with
 * `id_token_hint` (when the app kept the session's ID token), `client_id`,
 * `post_logout_redirect_uri` and `state`. Any query the endpoint already has is kept.
 *
 * @module
 */

/** What goes into an end-session request. */
export interface EndSessionParams {
  readonly clientId: string
  readonly postLogoutRedirectUri: string
  /** Echoed back on `post_logout_redirect_uri`: checked there against what the app kept. */
  readonly state: string
  /** The ID token of the session being ended, when the app kept it (RECOMMENDED by §2). */
  readonly idTokenHint?: string | undefined
}

/**
 * The URL to send the browser to.
 *
 * @example
 * ```ts
 * const url = endSessionUrl(new URL('https://id.example/logout'), { clientId, postLogoutRedirectUri, state })
 * ```
 */
export function endSessionUrl(endpoint: URL, params: EndSessionParams): URL {
  const url = new URL(endpoint)
  if (params.idTokenHint !== undefined) url.searchParams.set('id_token_hint', params.idTokenHint)
  url.searchParams.set('client_id', params.clientId)
  url.searchParams.set('post_logout_redirect_uri', params.postLogoutRedirectUri)
  url.searchParams.set('state', params.state)
  return url
}
