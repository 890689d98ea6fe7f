/**
 * The account page (`/account`, with `mfa`): a signed-in user lists, adds and removes second
 * factors and passkeys, and makes recovery codes. Reading needs the OP session; every change needs
 * a sign-in of the last five minutes (else "confirm it's you" first: a code, a passkey, or the
 * password) and spends the one-time CSRF token of the page it came from.
 *
 * Routes (relative to `/account`): `GET /`; `POST /reauth`, `/totp`, `/totp/confirm`,
 * `/recovery`, `/remove`, `/rename`, `/passkey` (forms); `POST /passkey/options`, `/reauth/options` (JSON
 * WebAuthn options, bound to the session).
 *
 * @module
 */
import { addMethod, type MethodUse, passkeyUse, usedFactor } from '../../acr.ts'
import { addCookie, type OpRequest, type OpResponse } from '../../http/message.ts'
import { type Params, readParams } from '../../http/params.ts'
import { html, json } from '../../http/responses.ts'
import type { OpRuntime } from '../../setup.ts'
import { newSecret, secretId } from '../../tokens/secrets.ts'
import { errorPage } from '../interaction/pages.ts'
import { passkeyAnswer, passkeyScriptHash } from '../interaction/passkey-script.ts'
import { currentSession, type LiveSession, upgradeSession } from '../interaction/session.ts'
import { accountPage, reauthPage, recoveryPage, signedOutPage, totpPage } from './pages.ts'

/** How long a sign-in allows changes, in seconds. */
const FRESH_SECONDS = 300

type Mfa = NonNullable<OpRuntime['mfa']>
interface Ctx {
  readonly deps: OpRuntime
  readonly mfa: Mfa
  readonly session: LiveSession
  readonly http: OpRequest
}

const binding = (session: LiveSession) => `account ${session.sid}`

async function forms(ctx: Ctx) {
  const csrf = newSecret()
  await ctx.deps.store.set(
    'csrf',
    await secretId(csrf),
    { uid: binding(ctx.session) },
    { ttlSeconds: ctx.deps.settings.ttl.interaction },
  )
  return { base: ctx.deps.settings.urls.account, csrf, passkeys: ctx.mfa.passkeysEnabled }
}

async function respond(body: string, ctx: Ctx, status = 200): Promise<OpResponse> {
  const scripts = ctx.mfa.passkeysEnabled ? [await passkeyScriptHash()] : []
  return html(body, status, {}, [], scripts)
}

async function overview(ctx: Ctx, notice?: string, error?: string, status = 200) {
  const account = await ctx.deps.accounts.find(ctx.session.accountId)
  const name = String(
    account?.claims.name ?? account?.claims.preferred_username ?? ctx.session.accountId,
  )
  const factors = await ctx.mfa.factors(ctx.session.accountId)
  return respond(
    accountPage({ forms: await forms(ctx), name, factors, notice, error }),
    ctx,
    status,
  )
}

async function reauth(ctx: Ctx, error?: string) {
  const sub = ctx.session.accountId
  const factors = await ctx.mfa.factors(sub)
  const stored = await ctx.deps.store.get('account', sub)
  const account = await ctx.deps.accounts.find(sub)
  const username = stored?.username ?? String(account?.claims.preferred_username ?? '')
  const body = reauthPage({
    forms: await forms(ctx),
    username,
    code: factors.totp.length > 0,
    passkey: factors.passkeys.length > 0 && ctx.mfa.passkeysEnabled,
    error,
  })
  return respond(body, ctx, error ? 401 : 200)
}

/**
 * Rule: a change needs a sign-in of the last five minutes and, once the account has an
 * authenticator app or a passkey, one that used a factor (a password alone cannot change factors).
 */
async function fresh(ctx: Ctx): Promise<boolean> {
  const { session, mfa, deps } = ctx
  if (Math.floor(deps.clock.now() / 1000) - session.authTime > FRESH_SECONDS) return false
  const f = await mfa.factors(session.accountId)
  if (f.totp.length === 0 && f.passkeys.length === 0) return true
  return usedFactor(session.amr ?? [])
}

/** Rule: a change spends a CSRF token issued to this session's account page. */
async function checkCsrf(params: Params, ctx: Ctx): Promise<boolean> {
  const csrf = params.get('csrf')
  if (csrf === undefined || csrf.length > 64) return false
  const spent = await ctx.deps.store.consume('csrf', await secretId(csrf))
  return spent !== undefined && !spent.alreadyConsumed && spent.value.uid === binding(ctx.session)
}

/** `POST /reauth`: a code, a passkey or the password of this account; the session is renewed. */
async function confirmIdentity(params: Params, ctx: Ctx): Promise<OpResponse> {
  const { mfa, deps, session } = ctx
  const sub = session.accountId
  let use: MethodUse | undefined
  const code = params.get('code')
  if (code !== undefined) {
    const result = await mfa.verifyTotp(sub, code.slice(0, 64))
    if (result.ok) use = { method: 'otp' }
  } else if (params.get('response') !== undefined) {
    const result = await mfa.verifyPasskeyAuthentication({
      response: passkeyAnswer(params),
      accountId: sub,
      binding: binding(session),
    })
    if (result.ok) use = passkeyUse(result)
  } else {
    const factors = await mfa.factors(sub)
    // With a second factor enrolled, the password alone does not confirm a change; password
    // guesses share the account's attempt limit with codes.
    const username = (params.get('username') ?? '').slice(0, 256)
    const password = (params.get('password') ?? '').slice(0, 1024)
    if (factors.totp.length === 0 && factors.passkeys.length === 0 && username && password) {
      const attempt = await mfa.attempt(sub)
      if (!attempt.ok) return reauth(ctx, 'Too many attempts. Wait a few minutes and try again.')
      if ((await deps.accounts.authenticate(username, password)) === sub) use = { method: 'pwd' }
    }
  }
  if (use === undefined) return reauth(ctx, 'That did not work. Try again.')
  const authTime = Math.floor(deps.clock.now() / 1000)
  const amr = addMethod(session.amr ?? ['pwd'], use)
  const cookie = await upgradeSession(ctx.http, session.sid, { authTime, amr }, deps)
  if (cookie === undefined) return html(signedOutPage(), 401)
  const page = await overview(
    { ...ctx, session: { ...session, authTime, amr } },
    'Confirmed. You can make changes for five minutes.',
  )
  return addCookie(page, cookie)
}

async function change(action: string, params: Params, ctx: Ctx): Promise<OpResponse> {
  const { mfa, deps, session } = ctx
  const sub = session.accountId
  switch (action) {
    case 'totp': {
      const account = await deps.accounts.find(sub)
      const label = String(account?.claims.email ?? account?.claims.preferred_username ?? sub)
      const enrollment = await mfa.enrollTotp(sub, { account: label.slice(0, 128) })
      return respond(totpPage({ forms: await forms(ctx), enrollment }), ctx)
    }
    case 'totp/confirm': {
      const id = (params.get('credential') ?? '').slice(0, 64)
      const result = await mfa.confirmTotp(sub, id, (params.get('code') ?? '').slice(0, 64))
      if (result.ok) return overview(ctx, 'Authenticator app added.')
      await mfa.remove(sub, id)
      return overview(ctx, undefined, 'That code is not right. Add the app again.', 400)
    }
    case 'recovery': {
      const codes = await mfa.generateRecoveryCodes(sub)
      return respond(recoveryPage({ back: deps.settings.urls.account, codes }), ctx)
    }
    case 'remove': {
      const removed = await mfa.remove(sub, (params.get('credential') ?? '').slice(0, 1024))
      return removed
        ? overview(ctx, 'Removed.')
        : overview(ctx, undefined, 'Nothing to remove.', 400)
    }
    case 'rename': {
      const id = (params.get('credential') ?? '').slice(0, 1024)
      const renamed = await mfa.rename(sub, id, (params.get('name') ?? '').slice(0, 256))
      return renamed
        ? overview(ctx, 'Renamed.')
        : overview(ctx, undefined, 'Nothing to rename.', 400)
    }
    case 'passkey': {
      const name = (params.get('name') ?? '').trim().slice(0, 64)
      const result = await mfa.verifyPasskeyRegistration({
        accountId: sub,
        response: passkeyAnswer(params),
        binding: binding(session),
        ...(name ? { name } : {}),
      })
      return result.ok
        ? overview(ctx, 'Passkey added.')
        : overview(ctx, undefined, 'The passkey could not be added.', 400)
    }
    default:
      return html(errorPage('Not found.'), 404)
  }
}

/** `POST /passkey/options` and `/reauth/options`: WebAuthn options bound to this session. */
async function options(action: string, ctx: Ctx): Promise<OpResponse> {
  const { mfa, session, deps } = ctx
  if (!mfa.passkeysEnabled) return json({ error: 'invalid_request' }, 400)
  if (action === 'reauth/options')
    return json(
      await mfa.passkeyAuthenticationOptions({
        accountId: session.accountId,
        binding: binding(session),
      }),
    )
  if (!(await fresh(ctx))) return json({ error: 'login_required' }, 401)
  const account = await deps.accounts.find(session.accountId)
  const userName = String(
    account?.claims.preferred_username ?? account?.claims.email ?? session.accountId,
  ).slice(0, 128)
  return json(
    await mfa.passkeyRegistrationOptions({
      accountId: session.accountId,
      userName,
      displayName: String(account?.claims.name ?? userName).slice(0, 128),
      binding: binding(session),
    }),
  )
}

/** Routes `/account[/…]` (path relative to `/account`). */
export async function accountEndpoint(
  http: OpRequest,
  path: string,
  deps: OpRuntime,
): Promise<OpResponse> {
  const mfa = deps.mfa
  if (!mfa) return html(errorPage('Not found.'), 404)
  const session = await currentSession(http, deps)
  if (!session || !(await deps.accounts.find(session.accountId))) return html(signedOutPage(), 401)
  const ctx: Ctx = { deps, mfa, session, http }
  const action = path.replace(/^\//, '')
  if (action === '') {
    if (http.method !== 'GET') return html(errorPage('Method not allowed.'), 405)
    return overview(ctx)
  }
  if (http.method !== 'POST') return html(errorPage('Method not allowed.'), 405)
  if (action === 'passkey/options' || action === 'reauth/options') return options(action, ctx)
  const params = await readParams(http, ['POST'])
  if (!(await checkCsrf(params, ctx)))
    return html(errorPage('This page has expired. Open your account page again.'), 400)
  if (action === 'reauth') return confirmIdentity(params, ctx)
  if (!(await fresh(ctx))) return reauth(ctx)
  return change(action, params, ctx)
}
