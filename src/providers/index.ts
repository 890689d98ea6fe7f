/**
 * `authkestra/providers`: built-in providers as descriptors (endpoints, quirks, profile mapping)
 * over the one client engine. None of them implements a token request of its own.
 *
 * @example
 * ```ts
 * import { github, google, discord, oidc } from 'authkestra/providers'
 * ```
 * @module
 */
export { atlassian } from './atlassian.ts'
export { bitbucket } from './bitbucket.ts'
export { discord } from './discord.ts'
export { type GitHubOptions, github } from './github.ts'
export { type GoogleOptions, google } from './google.ts'
export { type OidcOptions, oidc } from './oidc.ts'
export type { ProviderOptions } from './options.ts'
export { spotify } from './spotify.ts'
export { zoom } from './zoom.ts'
