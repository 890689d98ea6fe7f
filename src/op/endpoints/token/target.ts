/**
 * The target of a token request (RFC 8707 §2, §2.2): which one resource the access token is for.
 * The checks run in order, each its own function; all of them answer `invalid_target` (400 JSON)
 * and none repeats the presented value. They change nothing, so a grant runs them before it
 * spends its code or refresh token.
 *
 * One access token has one audience: when the grant covers several resources, the request must
 * name one of them (a token valid at several APIs could be replayed from one to the other).
 *
 * @module
 */
import type { Params } from '../../http/params.ts'
import { invalidTarget, type ResolvedResource, requestedResources } from '../../resources.ts'
import type { OpSettings } from '../../setup.ts'
import type { ClientRecord } from '../../store/types.ts'

/** What the target checks read. */
export type TargetDeps = { readonly settings: Pick<OpSettings, 'resources'> }

/**
 * Rule 1 (RFC 8707 §2): each `resource` is an absolute URI without fragment, a resource of this
 * OP, and allowed for the client.
 */
function checkRequested(params: Params, client: ClientRecord, deps: TargetDeps): string[] {
  return requestedResources(params, client, deps.settings.resources)
}

/**
 * Rule 2 (RFC 8707 §2.2): a grant the user authorized (code, refresh token, device code) yields
 * tokens only for resources it covers; asking for another (a widening) is refused. A grant with
 * no resources covers none.
 */
function checkWithinGrant(requested: readonly string[], granted: readonly string[]): void {
  if (!requested.every((r) => granted.includes(r)))
    throw invalidTarget('"resource" was not authorized for this grant')
}

/**
 * Rule 3 (RFC 8707 §2.2): one audience per token. The one named, else the grant's only one,
 * else the OP's own (no resource at all); with several left the client must name one.
 */
function pickOne(requested: readonly string[], granted: readonly string[]): string | undefined {
  const left = requested.length > 0 ? requested : granted
  if (left.length > 1)
    throw invalidTarget('name one "resource": an access token is issued for one resource')
  return left[0]
}

/**
 * Rule 4: the resource is still configured and still allowed for the client (a grant may
 * outlive a configuration change).
 */
function checkStillServed(resource: string | undefined, client: ClientRecord, deps: TargetDeps) {
  if (resource === undefined) return undefined
  const found = deps.settings.resources.get(resource)
  if (!found || !client.allowedResources?.includes(resource))
    throw invalidTarget('the resource of this grant is no longer served to this client')
  return found
}

/**
 * The resource the access token of this request is for, or undefined for the OP's own audience.
 * `granted` is what the user authorized (`undefined` for grants without a user, e.g.
 * client_credentials, where the client's `allowed_resources` alone decide).
 *
 * @example
 * ```ts
 * const target = tokenTarget(params, client, record.resources ?? [], deps)
 * ```
 */
export function tokenTarget(
  params: Params,
  client: ClientRecord,
  granted: readonly string[] | undefined,
  deps: TargetDeps,
): ResolvedResource | undefined {
  const requested = checkRequested(params, client, deps)
  if (granted !== undefined) checkWithinGrant(requested, granted)
  return checkStillServed(pickOne(requested, granted ?? []), client, deps)
}
