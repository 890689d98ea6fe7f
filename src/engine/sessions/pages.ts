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

/**
 * `width` numbers per slot, side by side (the fields a read takes together share a cache line).
 */
export class Paged<A extends Numbers> {
  readonly #pages: A[] = []
  constructor(
    private readonly make: (length: number) => A,
    readonly width = 1,
  ) {}

  #page(slot: number): A {
    const index = slot >>> SHIFT
    let page = this.#pages[index]
    if (!page) {
      page = this.make(PAGE * this.width)
      this.#pages[index] = page
    }
    return page
  }

  get(slot: number, field = 0): number {
    return this.#page(slot)[(slot & MASK) * this.width + field] as number
  }

  set(slot: number, value: number, field = 0): void {
    this.#page(slot)[(slot & MASK) * this.width + field] = value
  }
}

/** How byte pages are made and a range of one is encoded. */
export interface PageKind {
  alloc(length: number): Uint8Array
  base64url(page: Uint8Array, start: number, end: number): string
}

/** Plain `Uint8Array` pages, the range encoded in JS: any runtime. */
export const portablePages: PageKind = {
  alloc: (length) => new Uint8Array(length),
  base64url: (page, start, end) => encodeBase64url(page.subarray(start, end)),
}

interface NodeBuffer extends Uint8Array {
  toString(encoding?: string, start?: number, end?: number): string
}
const NodeBuffer = (globalThis as { Buffer?: { alloc(length: number): NodeBuffer } }).Buffer

/** Node's `Buffer` pages where the runtime has them: a range encodes natively, no view made. */
const defaultPages: PageKind = NodeBuffer
  ? {
      alloc: (length) => NodeBuffer.alloc(length),
      base64url: (page, start, end) => (page as NodeBuffer).toString('base64url', start, end),
    }
  : portablePages

/** `width` bytes per slot. */
export class PagedBytes {
  readonly #pages: Uint8Array[] = []
  /** `kind` makes the pages (tests pass {@link portablePages} to cover both kinds). */
  constructor(
    readonly width: number,
    private readonly kind: PageKind = defaultPages,
  ) {}

  #page(slot: number): Uint8Array {
    const index = slot >>> SHIFT
    let page = this.#pages[index]
    if (!page) {
      page = this.kind.alloc(PAGE * this.width)
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

  /** The slot's bytes in base64url (unpadded). */
  base64url(slot: number): string {
    const offset = (slot & MASK) * this.width
    return this.kind.base64url(this.#page(slot), offset, offset + this.width)
  }
}
