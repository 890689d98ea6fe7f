/**
 * The built-in interaction: `GET /interaction/:uid` shows the login, second-factor or consent
 * page, `POST /interaction/:uid/login` and `POST /interaction/:uid/consent` take the forms (the
 * second factor and passkeys: `second-factor.ts`). Every step
 * checks that the interaction is alive and belongs to this browser (its cookie); every POST
 * spends the one-time CSRF token of the page it was served with, so a form is submitted once.
 * Until the first POST nothing is stored: the record rides sealed in the interaction cookie and
 * the CSRF tokens are MACs (`sealed.ts`, `csrf.ts`); that POST claims and stores it.
 * Five wrong passwords end the interaction; the password step and its limits: `password-login.ts`.
 *
 * @module
 */
import { readCookie, serializeCookie } from '../../../core/cookies.ts'
import { addCookie, isOpResponse, type OpRequest, type OpResponse } from '../../http/message.ts'
import { type Params, readParams } from '../../http/params.ts'
import { html } from '../../http/responses.ts'
import type { OpRuntime } from '../../setup.ts'
import type { InteractionRecord } from '../../store/types.ts'
import { authorizationResponse } from '../authorize/respond.ts'
import { approveDevice, denyDevice } from '../device/approve.ts'
import { decidedPage } from '../device/pages.ts'
import { authTooOld, consentNeeded, interactionCookie } from './begin.ts'
import { loginCaptcha } from './captcha.ts'
import { csrfFor, csrfValid, spendCsrf } from './csrf.ts'
import { issueCode } from './finish.ts'
import { consentPage, errorPage, loginPage, secondFactorPage } from './pages.ts'
import { passkeyScriptHash } from './passkey-script.ts'
import { passwordLogin } from './password-login.ts'
import { claimInteraction, isSealed, openInteraction, wasClaimed } from './sealed.ts'
import { nextStep, otpStep, passkeyOptions, passkeyStep } from './second-factor.ts'
import { cookieScope, currentSession, startSession, upgradeSession } from './session.ts'

const EXPIRED =
  'This sign-in has expired or was opened in another browser. Go back to the application and start again.'
const MAX_FAILED_LOGINS = 5

/**
 * A live interaction bound to this browser: its stored record (claimed, or too large to seal),
 * else the record its sealed cookie carries (`sealed: true`, not claimed yet: see `sealed.ts`).
 */
export async function bindInteraction(
  uid: string,
  request: OpRequest,
  deps: OpRuntime,
): Promise<{ record: InteractionRecord; sealed: boolean } | undefined> {
  const value = /^[A-Za-z0-9_-]{22}$/.test(uid)
    ? readCookie(request, interactionCookie(uid, deps).name)
    : undefined
  if (value === undefined) return undefined
  const opened = isSealed(value) ? await openInteraction(value, uid, deps) : undefined
  if (value !== uid && !opened) return undefined
  const stored = await deps.store.get('interaction', uid)
  // A sealed cookie opens nothing once its interaction was claimed (and maybe ended since).
  const record = stored ?? (opened && !(await wasClaimed(uid, deps)) ? opened : undefined)
  if (!record) return undefined
  const age = Math.floor(deps.clock.now() / 1000) - record.createdAt
  return age <= deps.settings.ttl.interaction ? { record, sealed: !stored } : undefined
}

/** A live interaction bound to this browser, or undefined (for reading: nothing is claimed). */
export async function boundInteraction(
  uid: string,
  request: OpRequest,
  deps: OpRuntime,
): Promise<InteractionRecord | undefined> {
  return (await bindInteraction(uid, request, deps))?.record
}

/** What a page shows besides the interaction's state. */
interface RenderOptions {
  readonly error?: string | undefined
  readonly username?: string | undefined
  readonly status?: number | undefined
  /** The request the page answers: its client address is a signal of the bot check. */
  readonly request?: OpRequest | undefined
}

/** The page the interaction is at: login, a second factor, or consent. */
export async function render(
  uid: string,
  record: InteractionRecord,
  deps: OpRuntime,
  options: RenderOptions = {},
): Promise<OpResponse> {
  const { error, status } = options
  const client = await deps.store.get('client', record.request.clientId)
  const clientName = client?.name ?? record.request.clientId
  const csrf = await csrfFor(uid, deps)
  const base = `${deps.settings.urls.interaction}/${uid}`
  const passkeyTarget = { action: `${base}/passkey`, optionsUrl: `${base}/passkey/options`, csrf }
  const scripts = deps.mfa?.passkeysEnabled ? [await passkeyScriptHash()] : []
  if (record.partial) {
    const { partial } = record
    const { offer } = await nextStep(record.request, partial.accountId, partial.amr, deps, true)
    const body = secondFactorPage({
      clientName,
      error,
      code:
        offer.totp || offer.recovery
          ? { action: `${base}/otp`, csrf, totp: offer.totp, recovery: offer.recovery }
          : undefined,
      passkey: offer.passkey ? passkeyTarget : undefined,
    })
    return html(body, status ?? (error ? 401 : 200), {}, [], offer.passkey ? scripts : [])
  }
  if (record.accountId === undefined) {
    const bot = await loginCaptcha(record, deps, options.request)
    const body = loginPage({
      action: `${base}/login`,
      csrf,
      clientName,
      username: options.username ?? record.request.loginHint,
      error,
      passkey: scripts.length > 0 ? passkeyTarget : undefined,
      captcha: bot?.html,
    })
    const hashes = [...scripts, ...(bot?.scriptHashes ?? [])]
    return html(body, status ?? (error ? 401 : 200), {}, bot?.csp.frame ?? [], hashes, bot?.csp)
  }
  return html(
    consentPage({
      action: `${base}/consent`,
      csrf,
      clientName,
      scopes: record.request.scopes,
      deviceCode: record.request.device?.userCode,
      resources: record.request.resources,
    }),
  )
}

/** The `Set-Cookie` that ends the binding of interaction `uid`. */
export function clearInteractionCookie(uid: string, deps: OpRuntime): string {
  const binding = interactionCookie(uid, deps)
  return serializeCookie(binding.name, '', { ...cookieScope(deps), path: binding.path }, 0)
}

/**
 * Ends the interaction: code for the client (or, for a device authorization, the grant its poll
 * redeems and a page saying so), cookies as given.
 */
async function complete(
  uid: string,
  record: InteractionRecord,
  deps: OpRuntime,
  cookies: string[],
): Promise<OpResponse> {
  await deps.store.delete('interaction', uid)
  const device = record.request.device
  if (device !== undefined) {
    const pending = await deps.store.get('device', device.id)
    const user = {
      accountId: record.accountId as string,
      authTime: record.authTime as number,
      sid: record.sid,
      amr: record.amr,
    }
    if (pending?.status === 'pending') await approveDevice(device.id, pending, user, deps)
    const decided = html(decidedPage(pending?.status === 'pending', await clientName(record, deps)))
    for (const cookie of [...cookies, clearInteractionCookie(uid, deps)]) addCookie(decided, cookie)
    return decided
  }
  const response = await issueCode(
    record.request,
    {
      accountId: record.accountId as string,
      authTime: record.authTime as number,
      sid: record.sid,
      amr: record.amr,
    },
    deps,
  )
  for (const cookie of [...cookies, clearInteractionCookie(uid, deps)]) addCookie(response, cookie)
  return response
}

/**
 * Ends the interaction with an error: `error` to the client's redirect URI, or for a device
 * authorization, its record denied (the poll hears `access_denied`) and a page saying so.
 */
export async function decline(
  uid: string,
  record: InteractionRecord,
  error: string,
  deps: OpRuntime,
): Promise<OpResponse> {
  await deps.store.delete('interaction', uid)
  const clear = clearInteractionCookie(uid, deps)
  const device = record.request.device
  if (device !== undefined) {
    const pending = await deps.store.get('device', device.id)
    if (pending?.status === 'pending') await denyDevice(device.id, pending, deps)
    return html(decidedPage(false, await clientName(record, deps)), 200, { 'set-cookie': clear })
  }
  return authorizationResponse(
    record.request.redirectUri,
    { error },
    record.request.state,
    deps.settings.issuer,
    { 'set-cookie': clear },
  )
}

async function clientName(record: InteractionRecord, deps: OpRuntime): Promise<string> {
  return (await deps.store.get('client', record.request.clientId))?.name ?? record.request.clientId
}

/**
 * The form of a POST, once: the interaction must be bound, the CSRF token its own and unspent;
 * then the interaction is claimed (the first POST of a sealed one stores it, see `sealed.ts`).
 */
export async function postedForm(
  request: OpRequest,
  uid: string,
  deps: OpRuntime,
  /**
   * A refusal decided before anything is stored (a rate limit): it runs once the CSRF token's
   * MAC is checked, before the token is spent and a sealed interaction claimed.
   */
  gate?: (params: Params, record: InteractionRecord) => Promise<OpResponse | undefined>,
): Promise<{ params: Params; record: InteractionRecord } | OpResponse> {
  const params = await readParams(request, ['POST'])
  const bound = await bindInteraction(uid, request, deps)
  const csrf = params.get('csrf')
  if (!bound || csrf === undefined || !(await csrfValid(csrf, uid, deps)))
    return html(errorPage(EXPIRED), 400)
  const refused = await gate?.(params, bound.record)
  if (refused) return refused
  if (!(await spendCsrf(csrf, deps))) return html(errorPage(EXPIRED), 400)
  const record = bound.sealed ? await claimInteraction(uid, bound.record, deps) : bound.record
  if (!record) return html(errorPage(EXPIRED), 400)
  return { params, record }
}

/**
 * A wrong password, code or passkey: counted against the interaction (the fifth ends it), and the
 * page again with `options.error`.
 */
export async function failedAttempt(
  uid: string,
  record: InteractionRecord,
  deps: OpRuntime,
  options: RenderOptions,
): Promise<OpResponse> {
  const failedLogins = (record.failedLogins ?? 0) + 1
  if (failedLogins >= MAX_FAILED_LOGINS) {
    await deps.store.delete('interaction', uid)
    return html(
      errorPage('Too many failed attempts. Go back to the application and start again.'),
      429,
    )
  }
  const updated = { ...record, failedLogins }
  await deps.store.set('interaction', uid, updated, { ttlSeconds: deps.settings.ttl.interaction })
  return render(uid, updated, deps, options)
}

/**
 * Signs the user in (a new OP session with the login's `amr`), then consent if the client needs
 * it, else the code.
 */
export async function signIn(
  request: OpRequest,
  uid: string,
  record: InteractionRecord,
  sub: string,
  amr: readonly string[],
  deps: OpRuntime,
): Promise<OpResponse> {
  const authTime = Math.floor(deps.clock.now() / 1000)
  const { partial, ...rest } = record
  const stepUp = partial?.sid !== undefined && partial.accountId === sub ? partial.sid : undefined
  let session: { sid: string; cookie: string }
  if (stepUp !== undefined) {
    // A step-up never makes a session of its own: its password was the old session's.
    const upgraded = await upgradeSession(request, stepUp, { authTime, amr }, deps)
    if (!upgraded) {
      await deps.store.delete('interaction', uid)
      return html(errorPage(EXPIRED), 400, { 'set-cookie': clearInteractionCookie(uid, deps) })
    }
    session = { sid: stepUp, cookie: upgraded }
  } else session = await startSession(request, { accountId: sub, authTime, amr }, deps)
  const loggedIn: InteractionRecord = { ...rest, accountId: sub, authTime, sid: session.sid, amr }
  const client = await deps.store.get('client', record.request.clientId)
  if (client && (await consentNeeded(record.request, sub, client, deps.store))) {
    await deps.store.set('interaction', uid, loggedIn, {
      ttlSeconds: deps.settings.ttl.interaction,
    })
    const response = await render(uid, loggedIn, deps)
    return addCookie(response, session.cookie)
  }
  return complete(uid, loggedIn, deps, [session.cookie])
}

async function consent(request: OpRequest, uid: string, deps: OpRuntime): Promise<OpResponse> {
  const form = await postedForm(request, uid, deps)
  if (isOpResponse(form)) return form
  const { params, record } = form
  const now = Math.floor(deps.clock.now() / 1000)
  if (record.accountId === undefined || tooOldForConsent(record, now)) {
    return html(errorPage(EXPIRED), 400)
  }
  // The OP session the user signed in with must still be this browser's: a consent left open
  // in a tab must not issue a code (with the sid of a session already logged out) after a logout.
  if (record.sid !== undefined && (await currentSession(request, deps))?.sid !== record.sid) {
    await deps.store.delete('interaction', uid)
    return html(errorPage(EXPIRED), 400, { 'set-cookie': clearInteractionCookie(uid, deps) })
  }
  if (params.get('decision') !== 'allow') return decline(uid, record, 'access_denied', deps)
  await rememberConsent(record, deps)
  return complete(uid, record, deps, [])
}

/** A consent given long after the login must not stretch `max_age` (0: the login just made it). */
function tooOldForConsent(record: InteractionRecord, now: number): boolean {
  const maxAge = record.request.maxAge
  return maxAge !== undefined && maxAge > 0 && authTooOld(record.authTime ?? 0, maxAge, now)
}

/** Stores that the user agreed to the interaction's scopes for its client. */
export async function rememberConsent(record: InteractionRecord, deps: OpRuntime): Promise<void> {
  const key = `${record.accountId} ${record.request.clientId}`
  const given = (await deps.store.get('consent', key))?.scopes ?? []
  await deps.store.set('consent', key, {
    scopes: [...new Set([...given, ...record.request.scopes])],
  })
}

/** Routes `/interaction/:uid[/login|/consent]` (path relative to the OP). */
export async function interactionEndpoint(
  request: OpRequest,
  path: string,
  deps: OpRuntime,
): Promise<OpResponse> {
  // With an app-hosted UI the built-in pages do not exist: they would bypass the app's checks.
  if (deps.settings.interactionUrl !== undefined) return html(errorPage('Not found.'), 404)
  const slash = path.indexOf('/')
  const uid = slash < 0 ? path : path.slice(0, slash)
  const action = slash < 0 ? undefined : path.slice(slash + 1)
  if (action === undefined) {
    if (request.method !== 'GET') return html(errorPage('Method not allowed.'), 405)
    const record = await boundInteraction(uid, request, deps)
    return record ? render(uid, record, deps, { request }) : html(errorPage(EXPIRED), 400)
  }
  if (action === 'login') return passwordLogin(request, uid, deps)
  if (action === 'consent') return consent(request, uid, deps)
  if (action === 'otp') return otpStep(request, uid, deps)
  if (action === 'passkey') return passkeyStep(request, uid, deps)
  if (action === 'passkey/options') return passkeyOptions(request, uid, deps)
  return html(errorPage('Not found.'), 404)
}

export { complete as completeInteraction }
