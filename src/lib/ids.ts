import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

function encodeTime(ms: number): string {
  let out = '';
  let rest = ms;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

function encodeRandom(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += ALPHABET[byte % 32];
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
