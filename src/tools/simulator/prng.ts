/**
 * A small seeded PRNG (sfc32, seeded through cyrb128) so that a seed reproduces customers,
 * journeys and event ids on any machine and Node version. Math.random cannot be seeded.
 *
 * Independent parts of the simulation draw from independent streams (`derivePrng(seed, label)`),
 * so that turning a fault on does not shift the journeys, and asking for more customers does not
 * change the first ones.
 */

/** Hashes a string to four 32-bit words (cyrb128), the state sfc32 starts from. */
function cyrb128(text: string): [number, number, number, number] {
  let h1 = 1779033703
  let h2 = 3144134277
  let h3 = 1013904242
  let h4 = 2773480762
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i)
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067)
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233)
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213)
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179)
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067)
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233)
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213)
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179)
  h1 ^= h2 ^ h3 ^ h4
  h2 ^= h1
  h3 ^= h1
  h4 ^= h1
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0]
}

export class Prng {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(seedText: string) {
    ;[this.a, this.b, this.c, this.d] = cyrb128(seedText)
    // The first outputs of sfc32 still show the seed's structure; skip them.
    for (let i = 0; i < 15; i++) this.uint32()
  }

  /** The next 32-bit unsigned integer (sfc32). */
  uint32(): number {
    this.a >>>= 0
    this.b >>>= 0
    this.c >>>= 0
    this.d >>>= 0
    let t = (this.a + this.b) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.d = (this.d + 1) | 0
    t = (t + this.d) | 0
    this.c = (this.c + t) | 0
    return t >>> 0
  }

  /** A float in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  chance(probability: number): boolean {
    return probability > 0 && this.next() < probability
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list')
    return items[Math.floor(this.next() * items.length)] as T
  }

  /** Index drawn with the given (non-negative, not all zero) weights. */
  weightedIndex(weights: readonly number[]): number {
    let total = 0
    for (const w of weights) total += w
    let r = this.next() * total
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i] as number
      if (r < 0) return i
    }
    return weights.length - 1
  }

  /** An exponentially distributed value with the given mean (waiting times of a Poisson process). */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean
  }

  /** A log-normal value with the given median; `spread` is sigma of the underlying normal. */
  logNormal(median: number, spread: number): number {
    // Box-Muller; 1 - next() keeps the logarithm away from zero.
    const u = 1 - this.next()
    const v = this.next()
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
    return median * Math.exp(spread * z)
  }

  /** A version-4 UUID built from this stream, so that ids repeat with the seed. */
  uuid(): string {
    const hex = (n: number): string => n.toString(16).padStart(8, '0')
    const w0 = this.uint32()
    const w1 = ((this.uint32() & 0xffff0fff) | 0x00004000) >>> 0
    const w2 = ((this.uint32() & 0x3fffffff) | 0x80000000) >>> 0
    const w3 = this.uint32()
    const s = hex(w0) + hex(w1) + hex(w2) + hex(w3)
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`
  }
}

/** An independent stream for one part of the simulation. */
export function derivePrng(seed: number, label: string): Prng {
  return new Prng(`footfall-simulator/${seed}/${label}`)
}
