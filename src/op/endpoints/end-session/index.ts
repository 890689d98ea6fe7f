/**
 * The end-session endpoint (OpenID Connect RP-Initiated Logout 1.0), GET and POST, and its
 * confirmation form. The order is the security review:
 *
 * 1. The request's checks (`checks.ts`): a failing one gets the OP's own error page, never a
 *    redirect (§3: no redirection to an unverified `post_logout_redirect_uri`).
 * 2. Whose logout it is: an `id_token_hint` naming this browser's session (its `sub`, and its
 *    `sid` when it has one) ends the session at once; anything else (no hint, another user's,
 *    another session's) asks the user first (§2: the OP SHOULD ask), through a form whose
 *    one-time CSRF token and pending request are bound to this browser's session, so a page
 *    elsewhere cannot sign anyone out.
 * 3. The end: the session record, its cookie, and the clients that used it are told (see
 *    `logout/notifier.ts`: back-channel in the background); then a 303 to the registered
 *    `post_logout_redirect_uri` with `state` (§3), or the OP's signed-out page, which first loads
 *    the front-channel pages of those clients (`logout/frontchannel.ts`).
 *
 * @module
 */
import { randomToken } from '../../../core/random.ts'
import { OAuthProblem } from '../../errors.ts'
import type { OpRequest, OpResponse } from '../../http/message.ts'
import { readParams } from '../../http/params.ts'
import { html, redirect } from '../../http/responses.ts'
import { frontchannelUrls } from '../../logout/frontchannel.ts'
import type { SessionClient } from '../../logout/notifier.ts'
import type { OpRuntime } from '../../setup.ts'
import type { LogoutRequestRecord } from '../../store/types.ts'
import { newSecret, secretId } from '../../tokens/secrets.ts'
import { clearSessionCookie, currentSession, type LiveSession } from '../interaction/session.ts'
import {
  checkClientId,
  checkIdTokenHint,
  checkPostLogoutRedirectUri,
  checkState,
  checkUiLocales,
  type IdTokenHint,
} from './checks.ts'
import { confirmPage, signedOutPage, signOutErrorPage, stayedPage } from './pages.ts'

/** What a logout request asks for, before it is bound to a session. */
type Pending = Omit<LogoutRequestRecord, 'createdAt' | 'sid'>

const EXPIRED = 'This sign-out request has expired or was already used. Nothing was changed.'

/** The page of a refused request: its reason, nothing from the request echoed. */
function refused(problem: OAuthProblem): OpResponse {
  const message = `The sign-out request is invalid: ${problem.description}.`
  return html(signOutErrorPage(message), problem.status, problem.headers)
}

/**
 * Whether the hint names this browser's session: same user and same `sid`. A hint without `sid`
 * (an old ID token, or another OP's habit) could be any earlier session of the user: ask first.
 */
function attributable(hint: IdTokenHint | undefined, session: LiveSession): boolean {
  return hint !== undefined && hint.sub === session.accountId && hint.sid === session.sid
}

/**
 * §3: back to the client with `state`, or the OP's own page; the session cookie cleared. When
 * clients that used the session asked for front-channel logout, the page loads theirs first and
 * then moves on (Front-Channel Logout 1.0 §4).
 */
function finish(
  pending: Pending,
  ended: { clients: readonly SessionClient[]; sid: string } | undefined,
  deps: OpRuntime,
): OpResponse {
  const cookies = ended ? { 'set-cookie': clearSessionCookie(deps) } : {}
  let next: string | undefined
  if (pending.postLogoutRedirectUri !== undefined) {
    const target = new URL(pending.postLogoutRedirectUri)
    if (pending.state !== undefined) target.searchParams.append('state', pending.state)
    next = target.href
  }
  const frames = ended ? frontchannelUrls(ended.clients, ended.sid, deps.settings.issuer) : []
  if (frames.length === 0 && next !== undefined) return redirect(next, cookies)
  const origins = [...new Set(frames.map((f) => new URL(f).origin))]
  return html(signedOutPage(frames, next), 200, cookies, origins)
}

/** Ends `session` and returns what {@link finish} needs to tell its clients. */
async function end(session: LiveSession, deps: OpRuntime) {
  return { clients: await deps.logout.ended(session, 'end_session'), sid: session.sid }
}

/** Handles `GET|POST /logout`. */
export async function endSessionEndpoint(request: OpRequest, deps: OpRuntime): Promise<OpResponse> {
  let pending: Pending
  let hint: IdTokenHint | undefined
  try {
    const params = await readParams(request, ['GET', 'POST'])
    hint = await checkIdTokenHint(params, deps)
    const client = await checkClientId(params, hint, deps)
    const postLogoutRedirectUri = checkPostLogoutRedirectUri(params, client)
    const state = checkState(params)
    checkUiLocales(params)
    pending = {
      ...(client ? { clientId: client.clientId } : {}),
      ...(postLogoutRedirectUri === undefined ? {} : { postLogoutRedirectUri }),
      ...(state === undefined ? {} : { state }),
    }
  } catch (err) {
    if (err instanceof OAuthProblem) return refused(err)
    throw err
  }
  const session = await currentSession(request, deps)
  if (!session) return finish(pending, undefined, deps)
  if (attributable(hint, session)) return finish(pending, await end(session, deps), deps)
  return askFirst(pending, session, deps)
}

/** Stores the pending logout, bound to this session, and shows the confirmation form. */
async function askFirst(
  pending: Pending,
  session: LiveSession,
  deps: OpRuntime,
): Promise<OpResponse> {
  const uid = randomToken(16)
  const ttlSeconds = deps.settings.ttl.interaction
  const createdAt = Math.floor(deps.clock.now() / 1000)
  await deps.store.set(
    'logoutRequest',
    uid,
    { ...pending, sid: session.sid, createdAt },
    { ttlSeconds },
  )
  const csrf = newSecret()
  await deps.store.set('csrf', await secretId(csrf), { uid: `logout:${uid}` }, { ttlSeconds })
  const client = pending.clientId ? await deps.store.get('client', pending.clientId) : undefined
  const action = `${deps.settings.urls.endSession}/confirm`
  return html(confirmPage({ action, uid, csrf, clientName: client?.name }))
}

/**
 * Handles `POST /logout/confirm`: the CSRF token spent once, the pending request taken once and
 * only by the session it was made for; then the user's choice.
 */
export async function endSessionConfirmEndpoint(
  request: OpRequest,
  deps: OpRuntime,
): Promise<OpResponse> {
  let uid: string
  let csrf: string
  let decision: string | undefined
  try {
    const params = await readParams(request, ['POST'])
    uid = params.get('uid') ?? ''
    csrf = params.get('csrf') ?? ''
    decision = params.get('decision')
  } catch (err) {
    if (err instanceof OAuthProblem) return refused(err)
    throw err
  }
  const spent = csrf === '' ? undefined : await deps.store.consume('csrf', await secretId(csrf))
  if (!spent || spent.alreadyConsumed || spent.value.uid !== `logout:${uid}`)
    return html(signOutErrorPage(EXPIRED), 400)
  const pending = await deps.store.get('logoutRequest', uid)
  await deps.store.delete('logoutRequest', uid)
  const session = await currentSession(request, deps)
  if (!pending || !session || pending.sid !== session.sid)
    return html(signOutErrorPage(EXPIRED), 400)
  if (decision !== 'logout') return html(stayedPage())
  const { sid: _sid, createdAt: _at, ...rest } = pending
  return finish(rest, await end(session, deps), deps)
}
