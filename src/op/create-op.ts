/**
 * `createOp`: the embedded OpenID Provider as one Web-standard handler. It serves its endpoints
 * under the issuer's path, so it mounts under any prefix of any framework (or none).
 *
 * @module
 */
import { AuthkestraError } from '../core/errors.ts'
import type { OpConfig } from './config.ts'
import { accountEndpoint } from './endpoints/account/index.ts'
import { authorizeEndpoint } from './endpoints/authorize/index.ts'
import { deviceAuthorizationEndpoint } from './endpoints/device/authorization.ts'
import { deviceVerificationEndpoint } from './endpoints/device/verification.ts'
import { devsigChallengeEndpoint } from './endpoints/devsig/challenge.ts'
import { devsigEnrollEndpoint } from './endpoints/devsig/enroll.ts'
import { discoveryEndpoint, jwksEndpoint, metadata } from './endpoints/discovery.ts'
import { endSessionConfirmEndpoint, endSessionEndpoint } from './endpoints/end-session/index.ts'
import {
  appInteractions,
  type InteractionDetails,
  type InteractionResult,
} from './endpoints/interaction/app-api.ts'
import { interactionEndpoint } from './endpoints/interaction/index.ts'
import { introspectionEndpoint } from './endpoints/introspection.ts'
import { parEndpoint } from './endpoints/par/index.ts'
import { revocationEndpoint } from './endpoints/revocation.ts'
import { tokenEndpoint } from './endpoints/token/index.ts'
import { userinfoEndpoint } from './endpoints/userinfo.ts'
import { OAuthProblem } from './errors.ts'
import { fromWebRequest, type OpRequest, type OpResponse, toWebResponse } from './http/message.ts'
import { json, oauthError } from './http/responses.ts'
import { type OpRuntime, setupOp } from './setup.ts'
import type { SigningAlg } from './signing-algs.ts'

export type { InteractionDetails, InteractionResult } from './endpoints/interaction/app-api.ts'

/** What a fetch runtime knows of a request beyond the `Request` itself. */
export interface OpRequestInfo {
  /** The peer's IP address (the socket's; behind a proxy, the proxy's). */
  readonly remoteAddress?: string | undefined
}

/** A running OP. */
export interface Op {
  /** The issuer identifier. */
  readonly issuer: string
  /**
   * Serves every OP endpoint. Never throws: failures are OAuth errors or a bare 500. A fetch
   * runtime passes the peer's address in `info` (Deno's `info.remoteAddr.hostname`, Bun's
   * `server.requestIP(request)`), so per-address rate limits work; without it they are skipped.
   */
  handler(request: Request, info?: OpRequestInfo): Promise<Response>
  /**
   * The same, on the OP's own request and response shapes (see `fromWebRequest`): what a Node
   * server uses to serve the OP without building Web `Request`/`Response` objects.
   */
  handleMessage(request: OpRequest): Promise<OpResponse>
  /** The discovery document. */
  metadata(): Record<string, unknown>
  /** For `interactionUrl`: the app's own login page reads and ends interactions here. */
  readonly interactions: {
    /** The interaction of this request (`?uid=` and its cookie), if alive and bound to this browser. */
    details(request: Request): Promise<InteractionDetails | undefined>
    /** Ends it: a code for the client (and an OP session), or an error; returns the redirect. */
    finish(request: Request, result: InteractionResult): Promise<Response>
  }
  /**
   * Adds a new signing key of every configured algorithm (or of `alg` only) and retires the keys
   * they replace (private parts deleted; public parts published until their tokens expire).
   *
   * @example
   * ```ts
   * await op.rotateKeys() // every algorithm
   * await op.rotateKeys('RS256') // RS256 only
   * ```
   */
  rotateKeys(alg?: SigningAlg): Promise<void>
  /** Deletes a key at once (compromise): every token it signed stops verifying. */
  revokeKey(kid: string): Promise<void>
  /**
   * Signs a user out of the OP everywhere (an admin action, a password change): every OP session
   * of `sub` ends, and each client the user signed in to through one of them gets a back-channel
   * logout token naming the user. Resolves once the sessions are gone (deliveries go on behind).
   */
  logoutUser(sub: string): Promise<void>
  /** Resolves once every back-channel logout delivery started so far has finished. */
  logoutDeliveriesSettled(): Promise<void>
}

type Route = (
  request: OpRequest,
  rest: string,
  runtime: OpRuntime,
) => Promise<OpResponse> | OpResponse

const ROUTES: Record<string, Route> = {
  '/.well-known/openid-configuration': (_r, _p, rt) => discoveryEndpoint(rt.settings),
  '/.well-known/oauth-authorization-server': (_r, _p, rt) => discoveryEndpoint(rt.settings),
  '/jwks': (_r, _p, rt) => jwksEndpoint(rt.keys),
  '/authorize': (r, _p, rt) => authorizeEndpoint(r, rt),
  '/token': (r, _p, rt) => tokenEndpoint(r, rt),
  '/userinfo': (r, _p, rt) => userinfoEndpoint(r, rt),
  '/revoke': (r, _p, rt) => revocationEndpoint(r, rt),
  '/introspect': (r, _p, rt) => introspectionEndpoint(r, rt),
  '/logout': (r, _p, rt) => endSessionEndpoint(r, rt),
  '/logout/confirm': (r, _p, rt) => endSessionConfirmEndpoint(r, rt),
  '/device_authorization': (r, _p, rt) => deviceAuthorizationEndpoint(r, rt),
  '/device': (r, _p, rt) => deviceVerificationEndpoint(r, rt),
  '/par': (r, _p, rt) => parEndpoint(r, rt),
  '/devsig/challenge': (r, _p, rt) => devsigChallengeEndpoint(r, rt),
  '/devsig/enroll': (r, _p, rt) => devsigEnrollEndpoint(r, rt),
}

function route(pathname: string, basePath: string): { handler: Route; rest: string } | undefined {
  // RFC 8414 §3.1: for an issuer with a path, metadata lives at /.well-known/…/<path>.
  if (basePath !== '' && pathname === `/.well-known/oauth-authorization-server${basePath}`) {
    return { handler: ROUTES['/.well-known/oauth-authorization-server'] as Route, rest: '' }
  }
  if (!pathname.startsWith(`${basePath}/`)) return undefined
  const path = pathname.slice(basePath.length)
  const exact = ROUTES[path]
  if (exact) return { handler: exact, rest: '' }
  if (path === '/account' || path.startsWith('/account/')) {
    return {
      handler: (r, rest, rt) => accountEndpoint(r, rest, rt),
      rest: path.slice('/account'.length),
    }
  }
  if (path.startsWith('/interaction/')) {
    return {
      handler: (r, rest, rt) => interactionEndpoint(r, rest, rt),
      rest: path.slice('/interaction/'.length),
    }
  }
  return undefined
}

/**
 * Creates an OpenID Provider. Checks the configuration (clients, accounts, TTLs) and throws
 * `config_invalid` naming the field; generates signing keys on first start.
 *
 * @example
 * ```ts
 * import { createOp } from 'authkestra/op'
 *
 * const op = await createOp({
 *   issuer: 'https://app.example/oidc',
 *   clients: [{ client_id: 'web', client_secret: process.env.WEB_SECRET, redirect_uris: ['https://app.example/cb'] }],
 *   accounts: [{ username: 'alice', password: 'wonderland', claims: { email: 'alice@example.com' } }],
 * })
 * // any framework: hand it the requests under /oidc
 * const response = await op.handler(request)
 * ```
 */
export async function createOp(config: OpConfig): Promise<Op> {
  const runtime = await setupOp(config)
  const { settings, logger } = runtime

  const debug = logger.debug?.bind(logger)
  const handleMessage = debug
    ? async (request: OpRequest): Promise<OpResponse> => {
        const response = await answer(request)
        debug(`${request.method} ${request.url.pathname} → ${response.status}`)
        return response
      }
    : answer

  async function answer(request: OpRequest): Promise<OpResponse> {
    try {
      const match = route(request.url.pathname, settings.basePath)
      if (!match) return json({ error: 'not_found' }, 404)
      return await match.handler(request, match.rest, runtime)
    } catch (err) {
      if (err instanceof OAuthProblem) return oauthError(err)
      if (err instanceof AuthkestraError && err.code === 'store_unavailable') {
        logger.error('store unavailable', err)
        return json(
          {
            error: 'temporarily_unavailable',
            error_description: 'the service is temporarily unavailable',
          },
          503,
        )
      }
      logger.error(`unexpected failure: ${err instanceof Error ? err.name : 'unknown'}`, err)
      return json({ error: 'server_error', error_description: 'unexpected failure' }, 500)
    }
  }

  return {
    issuer: settings.issuer,
    handler: async (request, info) =>
      toWebResponse(await handleMessage(fromWebRequest(request, info?.remoteAddress))),
    handleMessage,
    metadata: () => metadata(settings),
    interactions: appInteractions(runtime),
    async rotateKeys(alg) {
      await runtime.keys.rotate(alg)
    },
    async revokeKey(kid) {
      await runtime.keys.revoke(kid)
    },
    async logoutUser(sub) {
      await runtime.logout.endUser(sub)
    },
    logoutDeliveriesSettled: () => runtime.backchannel.settled(),
  }
}
