import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** Longer than any id `newId` makes: an id past it names nothing, whatever it holds. */
export const MAX_ID_LENGTH = 64;

function encodeTime(ms: number): string {
  let out = '';
  let rest = ms;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

// Random bytes are drawn from the system a pool at a time: one call per id
// was a measurable share of a busy process's CPU.
const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let offset = 0;

function encodeRandom(length: number): string {
  if (offset + length > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  let out = '';
  for (let i = offset; i < offset + length; i++) out += ALPHABET[(pool[i] ?? 0) % 32];
  offset += length;
  return out;
}

export type IdPrefix = 'ten' | 'key' | 'acct' | 'tr' | 'ent' | 'evt' | 'whep' | 'whdl' | 'req';

/**
 * A prefixed, time-ordered id such as `tr_01hx...`: ten characters of
 * millisecond time and sixteen random ones (80 bits). It never contains `:`
 * and is never all digits, so it is also a valid BullMQ job id.
 */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${encodeTime(Date.now())}${encodeRandom(16)}`;
}
