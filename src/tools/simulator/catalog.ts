import { derivePrng } from './prng'
import type { Prng } from './prng'

/**
 * The simulated world: stores with opening hours, registered customers, and products with brands
 * and prices. Everything is derived from the seed alone, and lists grow by appending: the first
 * 100 customers of `--customers 200` are the customers of `--customers 100` with the same seed.
 */

export interface Store {
  id: string
  name: string
  /** Relative traffic; a flagship draws more visits than a corner shop. */
  size: number
  /** Opening hours in UTC minutes of the day, [opens, closes). */
  opensMin: number
  closesMin: number
}

export interface Customer {
  id: string
  firstName: string
  lastName: string
  homeStoreIndex: number
  /** How often this customer shops, relative to others: a few regulars, many occasional ones. */
  affinity: number
}

export interface Product {
  productId: string
  name: string
  brand: string
  unitPrice: number
}

const DISTRICTS = [
  'Downtown',
  'Harbourside',
  'Northgate',
  'Riverside',
  'Old Town',
  'Westfield',
  'Eastbrook',
  'Hillcrest',
  'Lakeshore',
  'Southpark',
  'Midtown',
  'Airport',
  'University',
  'Station',
  'Mill Lane',
]

const FIRST_NAMES = [
  'Ava',
  'Ben',
  'Chloe',
  'Daniel',
  'Elena',
  'Farid',
  'Grace',
  'Hiro',
  'Isla',
  'Jonas',
  'Kemi',
  'Liam',
  'Maya',
  'Noah',
  'Olivia',
  'Priya',
  'Quinn',
  'Rosa',
  'Sam',
  'Tariq',
  'Uma',
  'Victor',
  'Wen',
  'Xavier',
  'Yara',
  'Zoe',
]
const LAST_NAMES = [
  'Anderson',
  'Bauer',
  'Costa',
  'Dubois',
  'Eriksen',
  'Fischer',
  'Garcia',
  'Haddad',
  'Ito',
  'Jensen',
  'Kowalski',
  'Lopez',
  'Moreau',
  'Nakamura',
  'Okafor',
  'Petrov',
  'Quintero',
  'Rossi',
  'Silva',
  'Tanaka',
  'Usman',
  'Varga',
  'Walsh',
  'Yilmaz',
  'Zhang',
]

/** Brands with the kinds of product they sell and a typical price. */
const BRANDS: readonly { brand: string; products: readonly string[]; price: number }[] = [
  {
    brand: 'Northpeak',
    products: [
      'Trail Runner 3 Shoe',
      'Alpine Shell Jacket',
      'Summit Daypack 22L',
      'Ridge Hiking Boot',
    ],
    price: 120,
  },
  {
    brand: 'Woolworks',
    products: [
      'Merino Crew Sock (3-pack)',
      'Merino Beanie',
      'Wool Base Layer Top',
      'Fleece Neck Gaiter',
    ],
    price: 28,
  },
  {
    brand: 'Lumen & Co',
    products: ['Rechargeable Headlamp', 'Camp Lantern', 'Pocket Torch'],
    price: 45,
  },
  {
    brand: 'Fieldhouse',
    products: ['Canvas Tote', 'Field Shirt', 'Chino Short', 'Utility Belt'],
    price: 38,
  },
  {
    brand: 'Brightside',
    products: ['Sunglasses Polarized', 'SPF 50 Sun Stick', 'Cap Classic'],
    price: 25,
  },
  {
    brand: 'Kettle Creek',
    products: ['Insulated Bottle 750ml', 'Travel Mug', 'Camp Stove Mini'],
    price: 32,
  },
  {
    brand: 'Stride',
    products: ['Road Runner Shoe', 'Running Tee', 'Running Tights', 'Race Socks'],
    price: 65,
  },
  {
    brand: 'Harbor Goods',
    products: ['Rain Poncho', 'Dry Bag 10L', 'Waterproof Phone Pouch'],
    price: 22,
  },
  { brand: 'Pinecrest', products: ['Down Vest', 'Down Parka', 'Quilted Liner'], price: 160 },
  {
    brand: 'Tinder & Twig',
    products: ['Fire Starter Kit', 'Folding Knife', 'Paracord 30m'],
    price: 18,
  },
  {
    brand: 'Urban Trek',
    products: ['Commuter Backpack', 'Laptop Sleeve', 'Crossbody Bag'],
    price: 75,
  },
  {
    brand: 'Glacier Kids',
    products: ['Kids Snow Boot', 'Kids Rain Jacket', 'Kids Mittens'],
    price: 40,
  },
]

/** Store i is `S-` + three digits, like the samples' `S-017`. */
export function storeId(index: number): string {
  return `S-${String(index + 1).padStart(3, '0')}`
}

export function makeStores(seed: number, count: number): Store[] {
  const prng = derivePrng(seed, 'stores')
  const stores: Store[] = []
  for (let i = 0; i < count; i++) {
    const district = DISTRICTS[i % DISTRICTS.length] as string
    const round = Math.floor(i / DISTRICTS.length)
    stores.push({
      id: storeId(i),
      name: `Footfall ${district}${round > 0 ? ` ${round + 1}` : ''}`,
      size: prng.pick([0.5, 1, 1, 1.5, 2.5]),
      opensMin: prng.pick([8, 9, 9, 10]) * 60,
      closesMin: prng.pick([19, 20, 21, 21, 22]) * 60,
    })
  }
  return stores
}

/**
 * Registered customers: `C-` + six digits, all distinct. Affinity is heavy-tailed so that some
 * customers come back several times a day or on most days, and most come now and then.
 */
export function makeCustomers(seed: number, count: number, storeCount: number): Customer[] {
  const prng = derivePrng(seed, 'customers')
  const seen = new Set<string>()
  const customers: Customer[] = []
  while (customers.length < count) {
    const id = `C-${prng.int(100_000, 999_999)}`
    const firstName = prng.pick(FIRST_NAMES)
    const lastName = prng.pick(LAST_NAMES)
    const homeDraw = prng.next()
    const affinity = prng.logNormal(1, 1)
    if (seen.has(id)) continue
    seen.add(id)
    customers.push({
      id,
      firstName,
      lastName,
      // Drawn as a fraction so that a customer's home does not depend on the store count's
      // rounding of earlier draws.
      homeStoreIndex: Math.min(storeCount - 1, Math.floor(homeDraw * storeCount)),
      affinity,
    })
  }
  return customers
}

/** The customer ids a run with this seed and count will use (the Salesforce emulator seeds Accounts from them). */
export function customerIds(seed: number, count: number): string[] {
  return makeCustomers(seed, count, 1).map((c) => c.id)
}

function roundPrice(value: number): number {
  // Shop prices end in .99, .49 or a whole number.
  const whole = Math.max(1, Math.floor(value))
  return whole + [0.99, 0.49, 0.0][whole % 3]!
}

export function makeProducts(seed: number): Product[] {
  const prng: Prng = derivePrng(seed, 'products')
  const products: Product[] = []
  let n = 0
  for (const { brand, products: names, price } of BRANDS) {
    for (const name of names) {
      n += 1
      products.push({
        productId: `P-${String(10_000 + n * 137 + prng.int(0, 99)).padStart(5, '0')}`,
        name,
        brand,
        unitPrice: roundPrice(prng.logNormal(price, 0.35)),
      })
    }
  }
  return products
}
