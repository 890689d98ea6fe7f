/**
 * The built-in interaction: `GET /interaction/:uid` shows the login or consent page,
 * `POST /interaction/:uid/login` and `POST /interaction/:uid/consent` take the forms. Every step
 * checks that the interaction is alive, belongs to this browser (its cookie) and, for POSTs,
 * carries the CSRF token of the page it was served with.
 *
 * @module
 */
import { readCookie, serializeCookie } from '../../../core/cookies.ts'
import { type Params, readParams } from '../../http/params.ts'
import { html } from '../../http/responses.ts'
import type { OpRuntime } from '../../setup.ts'
import type { InteractionRecord } from '../../store/types.ts'
import { matchesHash, newSecret, secretId } from '../../tokens/secrets.ts'
import { authorizationResponse } from '../authorize/respond.ts'
import { consentNeeded, interactionCookiePath } from './begin.ts'
import { issueCode } from './finish.ts'
import { consentPage, errorPage, loginPage } from './pages.ts'
import { cookieScope, INTERACTION_COOKIE, startSession } from './session.ts'

const EXPIRED =
  'This sign-in has expired or was opened in another browser. Go back to the application and start again.'

/** A live interaction bound to this browser, or undefined. */
export async function boundInteraction(
  uid: string,
  request: Request,
  deps: OpRuntime,
): Promise<InteractionRecord | undefined> {
  if (!/^[A-Za-z0-9_-]{22}$/.test(uid) || readCookie(request, INTERACTION_COOKIE) !== uid)
    return undefined
  const record = await deps.store.get('interaction', uid)
  if (!record) return undefined
  const age = Math.floor(deps.clock.now() / 1000) - record.createdAt
  return age <= deps.settings.ttl.interaction ? record : undefined
}

async function withCsrf(uid: string, record: InteractionRecord, deps: OpRuntime): Promise<string> {
  const csrf = newSecret()
  await deps.store.set(
    'interaction',
    uid,
    { ...record, csrfHash: await secretId(csrf) },
    { ttlSeconds: deps.settings.ttl.interaction },
  )
  return csrf
}

async function render(
  uid: string,
  record: InteractionRecord,
  deps: OpRuntime,
  error?: string,
  username?: string,
): Promise<Response> {
  const client = await deps.store.get('client', record.request.clientId)
  const clientName = client?.name ?? record.request.clientId
  const csrf = await withCsrf(uid, record, deps)
  const base = `${deps.settings.urls.interaction}/${uid}`
  if (record.accountId === undefined) {
    const body = loginPage({
      action: `${base}/login`,
      csrf,
      clientName,
      username: username ?? record.request.loginHint,
      error,
    })
    return html(body, error ? 401 : 200)
  }
  return html(
    consentPage({ action: `${base}/consent`, csrf, clientName, scopes: record.request.scopes }),
  )
}

function clearInteractionCookie(deps: OpRuntime): string {
  return serializeCookie(
    INTERACTION_COOKIE,
    '',
    { ...cookieScope(deps), path: interactionCookiePath(deps) },
    0,
  )
}

/** Ends the interaction: code for the client, cookies as given. */
async function complete(
  uid: string,
  record: InteractionRecord,
  deps: OpRuntime,
  cookies: string[],
): Promise<Response> {
  await deps.store.delete('interaction', uid)
  const headers = new Headers()
  for (const c of [...cookies, clearInteractionCookie(deps)]) headers.append('set-cookie', c)
  const response = await issueCode(
    record.request,
    record.accountId as string,
    record.authTime as number,
    deps,
  )
  for (const c of headers.getSetCookie()) response.headers.append('set-cookie', c)
  return response
}

async function postedForm(
  request: Request,
  uid: string,
  deps: OpRuntime,
): Promise<{ params: Params; record: InteractionRecord } | Response> {
  const params = await readParams(request, ['POST'])
  const record = await boundInteraction(uid, request, deps)
  const csrf = params.get('csrf')
  if (
    !record ||
    csrf === undefined ||
    record.csrfHash === '' ||
    !(await matchesHash(csrf, record.csrfHash))
  ) {
    return html(errorPage(EXPIRED), 400)
  }
  return { params, record }
}

async function login(request: Request, uid: string, deps: OpRuntime): Promise<Response> {
  const form = await postedForm(request, uid, deps)
  if (form instanceof Response) return form
  const { params, record } = form
  const username = params.get('username') ?? ''
  const password = params.get('password') ?? ''
  const sub =
    username && password && username.length <= 256
      ? await deps.accounts.authenticate(username, password)
      : null
  if (sub === null) return render(uid, record, deps, 'Invalid username or password.', username)
  const authTime = Math.floor(deps.clock.now() / 1000)
  const session = await startSession(request, { accountId: sub, authTime }, deps)
  const loggedIn: InteractionRecord = { ...record, accountId: sub, authTime }
  const client = await deps.store.get('client', record.request.clientId)
  if (client && (await consentNeeded(record.request, sub, client, deps.store))) {
    await deps.store.set('interaction', uid, loggedIn, {
      ttlSeconds: deps.settings.ttl.interaction,
    })
    const response = await render(uid, loggedIn, deps)
    response.headers.append('set-cookie', session)
    return response
  }
  return complete(uid, loggedIn, deps, [session])
}

async function consent(request: Request, uid: string, deps: OpRuntime): Promise<Response> {
  const form = await postedForm(request, uid, deps)
  if (form instanceof Response) return form
  const { params, record } = form
  if (record.accountId === undefined) return html(errorPage(EXPIRED), 400)
  if (params.get('decision') !== 'allow') {
    await deps.store.delete('interaction', uid)
    return authorizationResponse(
      record.request.redirectUri,
      { error: 'access_denied' },
      record.request.state,
      deps.settings.issuer,
      {
        'set-cookie': clearInteractionCookie(deps),
      },
    )
  }
  const key = `${record.accountId} ${record.request.clientId}`
  const given = (await deps.store.get('consent', key))?.scopes ?? []
  await deps.store.set('consent', key, {
    scopes: [...new Set([...given, ...record.request.scopes])],
  })
  return complete(uid, record, deps, [])
}

/** Routes `/interaction/:uid[/login|/consent]` (path relative to the OP). */
export async function interactionEndpoint(
  request: Request,
  path: string,
  deps: OpRuntime,
): Promise<Response> {
  const [uid = '', action] = path.split('/')
  if (action === undefined) {
    if (request.method !== 'GET') return html(errorPage('Method not allowed.'), 405)
    const record = await boundInteraction(uid, request, deps)
    return record ? render(uid, record, deps) : html(errorPage(EXPIRED), 400)
  }
  if (action === 'login') return login(request, uid, deps)
  if (action === 'consent') return consent(request, uid, deps)
  return html(errorPage('Not found.'), 404)
}

export { complete as completeInteraction }
