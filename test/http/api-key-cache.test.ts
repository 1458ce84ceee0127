import { describe, expect, it } from 'vitest';
import { ApiKeyCache } from '../../src/http/api-key-cache.js';

const caller = { tenantId: 'ten_a', keyId: 'key_a' };

describe('API key cache', () => {
  it('keeps a look-up, and drops it when its key is revoked', async () => {
    const cache = new ApiKeyCache();
    let loads = 0;
    const load = async () => {
      loads += 1;
      return caller;
    };
    expect(await cache.lookup('secret', load)).toEqual(caller);
    expect(await cache.lookup('secret', load)).toEqual(caller);
    expect(loads).toBe(1);
    cache.evict('key_other');
    await cache.lookup('secret', load);
    expect(loads).toBe(1);
    cache.evict('key_a');
    await cache.lookup('secret', load);
    expect(loads).toBe(2);
  });

  it('reads again when a revocation is heard while a look-up runs, and keeps only that answer', async () => {
    const cache = new ApiKeyCache();
    const answers: (typeof caller | undefined)[] = [caller, undefined];
    let loads = 0;
    // The first read saw the key live; the revocation commits and is heard
    // before that read's answer arrives.
    const revokedMeanwhile = async () => {
      loads += 1;
      if (loads === 1) cache.evict('key_a');
      return answers[loads - 1];
    };
    expect(await cache.lookup('secret', revokedMeanwhile)).toBeUndefined();
    expect(loads).toBe(2);
    expect(await cache.lookup('secret', revokedMeanwhile)).toBeUndefined();
    expect(loads).toBe(2);
  });
});
