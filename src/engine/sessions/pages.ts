/**
 * Typed columns in fixed pages of 65,536 slots, added when first touched and never copied:
 * unlike a doubling array, growth leaves no garbage behind (which a process's RSS would keep).
 * Accessors compute page and offset inline, allocating nothing.
 *
 * @module
 */
import { encodeBase64url } from '../../core/base64url.ts'

/** Slots per page (a power of two: page = slot >>> 16). */
export const PAGE = 65_536
const SHIFT = 16
const MASK = PAGE - 1

type Numbers = Float64Array | Int32Array | Uint16Array | Uint8Array

/** One number per slot. */
export class Paged<A extends Numbers> {
  readonly #pages: A[] = []
  constructor(private readonly make: (length: number) => A) {}

  #page(slot: number): A {
    const index = slot >>> SHIFT
    let page = this.#pages[index]
    if (!page) {
      page = this.make(PAGE)
      this.#pages[index] = page
    }
    return page
  }

  get(slot: number): number {
    return this.#page(slot)[slot & MASK] as number
  }

  set(slot: number, value: number): void {
    this.#page(slot)[slot & MASK] = value
  }
}

/** `width` bytes per slot. */
export class PagedBytes {
  readonly #pages: Uint8Array[] = []
  constructor(readonly width: number) {}

  #page(slot: number): Uint8Array {
    const index = slot >>> SHIFT
    let page = this.#pages[index]
    if (!page) {
      page = new Uint8Array(PAGE * this.width)
      this.#pages[index] = page
    }
    return page
  }

  write(slot: number, bytes: Uint8Array): void {
    this.#page(slot).set(bytes, (slot & MASK) * this.width)
  }

  equals(slot: number, bytes: Uint8Array): boolean {
    const page = this.#page(slot)
    const offset = (slot & MASK) * this.width
    for (let i = 0; i < this.width; i++) if (page[offset + i] !== bytes[i]) return false
    return true
  }

  /** The first 4 bytes of the slot as an unsigned integer (a hash, for digests). */
  head32(slot: number): number {
    const page = this.#page(slot)
    const o = (slot & MASK) * this.width
    return (
      ((page[o] as number) |
        ((page[o + 1] as number) << 8) |
        ((page[o + 2] as number) << 16) |
        ((page[o + 3] as number) << 24)) >>>
      0
    )
  }

  /** A copy of the slot's bytes. */
  copy(slot: number): Uint8Array {
    const offset = (slot & MASK) * this.width
    return this.#page(slot).slice(offset, offset + this.width)
  }

  base64url(slot: number): string {
    const offset = (slot & MASK) * this.width
    return encodeBase64url(this.#page(slot).subarray(offset, offset + this.width))
  }
}
