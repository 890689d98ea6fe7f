/**
 * Any OpenID Provider, from its issuer alone: endpoints, keys and capabilities come from
 * discovery; identity from the verified ID token and userinfo.
 *
 * @module
 */

import type { ProviderConfig } from '../client/provider-config.ts'
import { AuthkestraError } from '../core/errors.ts'
import { type ProviderOptions, registration } from './options.ts'

/** Options of a generic OpenID Provider. */
export interface OidcOptions extends ProviderOptions {
  /** The issuer identifier; `<issuer>/.well-known/openid-configuration` must exist. */
  readonly issuer: string
  /** Display name (default: the id). */
  readonly name?: string | undefined
  /** Extra authorization parameters on every login. */
  readonly authorizationParams?: Readonly<Record<string, string>> | undefined
  /** Allow plain-http endpoints off loopback. Never in production. */
  readonly allowInsecureHttp?: boolean | undefined
}

/**
 * A generic OpenID Connect provider.
 *
 * @example
 * ```ts
 * import { oidc } from 'authkestra/providers'
 * const flow = new OAuth2Flow(oidc({
 *   issuer: 'https://id.example.com',
 *   clientId: 'my-app',
 *   redirectUri: 'https://app.example/auth/callback/oidc',
 * }))
 * ```
 */
export function oidc(options: OidcOptions): ProviderConfig {
  if (typeof options?.issuer !== 'string' || options.issuer === '') {
    throw new AuthkestraError(
      'config_invalid',
      `oidc(${options?.id === undefined ? '' : `"${options.id}"`}): "issuer" is required: the provider's issuer URL (its discovery document is at <issuer>/.well-known/openid-configuration)`,
    )
  }
  return {
    id: options.id ?? 'oidc',
    issuer: options.issuer,
    scopes: ['openid', 'profile', 'email'],
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.authorizationParams === undefined
      ? {}
      : { authorizationParams: options.authorizationParams }),
    ...(options.allowInsecureHttp === undefined
      ? {}
      : { allowInsecureHttp: options.allowInsecureHttp }),
    ...registration(options),
  }
}
