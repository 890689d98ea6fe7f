/**
 * Small readers of nested profile fields that several providers' profile mappings share.
 *
 * @module
 */

/** `value[key]` when `value` is a plain object, else undefined. */
export function member(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined
}

/** A non-empty string, else null. */
export function nonEmpty(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null
}

/** The `url` of the first image of a list (Spotify's `images`), or null. */
export function firstImageUrl(images: unknown): string | null {
  return Array.isArray(images) ? nonEmpty(member(images[0], 'url')) : null
}
