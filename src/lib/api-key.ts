import { createHash, randomBytes } from 'node:crypto';

const KEY_PREFIX = 'fck_';

/** A new API key: the secret shown once, and the hash that is stored. */
export function generateApiKey(): { secret: string; hash: string; prefix: string } {
  const secret = `${KEY_PREFIX}${randomBytes(24).toString('base64url')}`;
  return { secret, hash: hashApiKey(secret), prefix: secret.slice(0, 10) };
}

/**
 * Keys carry 192 random bits, so a plain SHA-256 is enough: there is nothing
 * to brute-force, and a fast hash keeps authentication off the hot path.
 */
export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
