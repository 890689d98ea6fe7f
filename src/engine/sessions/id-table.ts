/**
 * The index of the in-memory session store: session storage id → slot, in insertion order (for
 * evicting the oldest). The ids the session manager makes are base64url SHA-256 digests; those
 * are kept as their 32 raw bytes in pages and found through an open-addressing table of slot
 * numbers (the first bytes of a digest are already a uniform hash), about 48 bytes a session
 * against ~100 for a `Map` entry and its 43-character string. Any other id (a custom store user,
 * a test) goes through a plain `Map`.
 *
 * @module
 */
import { decodeDigest } from '../../core/base64url.ts'
import { Paged, PagedBytes } from './pages.ts'

const ID_BYTES = 32
const EMPTY = 0
const TOMBSTONE = -1

/** Reused for every lookup: decoded ids are compared or copied at once, never kept. */
const scratch = new Uint8Array(ID_BYTES)

/** The 32 bytes of a base64url SHA-256 id, in the shared scratch buffer; else undefined. */
function idBytes(id: string): Uint8Array | undefined {
  return decodeDigest(id, scratch) ? scratch : undefined
}

/** Session ids to slots, oldest first. */
export class IdTable {
  #table = new Int32Array(1024)
  #filled = 0
  #size = 0
  readonly #bytes = new PagedBytes(ID_BYTES)
  /** Links of the insertion order: slot + 1 of the previous / next entry, 0 for none. */
  readonly #prev = new Paged((n) => new Int32Array(n))
  readonly #next = new Paged((n) => new Int32Array(n))
  #head = 0
  #tail = 0
  readonly #odd = new Map<string, number>()
  readonly #oddIds = new Map<number, string>()

  get size(): number {
    return this.#size
  }

  get(id: string): number | undefined {
    const bytes = idBytes(id)
    if (!bytes) return this.#odd.get(id)
    const found = this.#find(bytes)
    return found < 0 ? undefined : (this.#table[found] as number) - 1
  }

  /** Adds `id` (not present) at `slot`, as the newest entry. */
  set(id: string, slot: number): void {
    const bytes = idBytes(id)
    if (bytes) {
      this.#bytes.write(slot, bytes)
      if ((this.#filled + 1) * 2 > this.#table.length) this.#rehash()
      let i = this.#hash(bytes)
      while ((this.#table[i] as number) > EMPTY) i = (i + 1) & (this.#table.length - 1)
      if (this.#table[i] === EMPTY) this.#filled++
      this.#table[i] = slot + 1
    } else {
      this.#odd.set(id, slot)
      this.#oddIds.set(slot, id)
    }
    this.#size++
    this.#link(slot)
  }

  /** Removes the entry at `slot` (which must be present). */
  deleteSlot(slot: number): void {
    const odd = this.#oddIds.get(slot)
    if (odd !== undefined) {
      this.#odd.delete(odd)
      this.#oddIds.delete(slot)
    } else {
      const found = this.#findSlot(slot)
      if (found >= 0) this.#table[found] = TOMBSTONE
    }
    this.#size--
    this.#unlink(slot)
  }

  /** The slot of the oldest entry, or undefined when empty. */
  oldest(): number | undefined {
    return this.#head === 0 ? undefined : this.#head - 1
  }

  /** Every slot, oldest first (safe to delete the current one while iterating). */
  *slots(): Generator<number> {
    let cursor = this.#head
    while (cursor !== 0) {
      const slot = cursor - 1
      cursor = this.#next.get(slot)
      yield slot
    }
  }

  /** The id at `slot`. */
  idOf(slot: number): string {
    return this.#oddIds.get(slot) ?? this.#bytes.base64url(slot)
  }

  #hash(bytes: Uint8Array): number {
    const head =
      ((bytes[0] as number) |
        ((bytes[1] as number) << 8) |
        ((bytes[2] as number) << 16) |
        ((bytes[3] as number) << 24)) >>>
      0
    return head & (this.#table.length - 1)
  }

  #find(bytes: Uint8Array): number {
    const mask = this.#table.length - 1
    for (let i = this.#hash(bytes); ; i = (i + 1) & mask) {
      const entry = this.#table[i] as number
      if (entry === EMPTY) return -1
      if (entry > 0 && this.#bytes.equals(entry - 1, bytes)) return i
    }
  }

  /** The table index holding `slot`, or -1. */
  #findSlot(slot: number): number {
    const mask = this.#table.length - 1
    for (let i = this.#bytes.head32(slot) & mask; ; i = (i + 1) & mask) {
      const entry = this.#table[i] as number
      if (entry === EMPTY) return -1
      if (entry === slot + 1) return i
    }
  }

  /** Rebuilds the table, twice as large when it holds many live entries, without tombstones. */
  #rehash(): void {
    const live: number[] = []
    for (const entry of this.#table) if (entry > 0) live.push(entry)
    const size = live.length * 4 > this.#table.length ? this.#table.length * 2 : this.#table.length
    this.#table = new Int32Array(size)
    this.#filled = 0
    for (const entry of live) {
      let i = this.#bytes.head32(entry - 1) & (size - 1)
      while (this.#table[i] !== EMPTY) i = (i + 1) & (size - 1)
      this.#table[i] = entry
      this.#filled++
    }
  }

  #link(slot: number): void {
    this.#prev.set(slot, this.#tail)
    this.#next.set(slot, 0)
    if (this.#tail !== 0) this.#next.set(this.#tail - 1, slot + 1)
    else this.#head = slot + 1
    this.#tail = slot + 1
  }

  #unlink(slot: number): void {
    const prev = this.#prev.get(slot)
    const next = this.#next.get(slot)
    if (prev !== 0) this.#next.set(prev - 1, next)
    else this.#head = next
    if (next !== 0) this.#prev.set(next - 1, prev)
    else this.#tail = prev
  }
}
