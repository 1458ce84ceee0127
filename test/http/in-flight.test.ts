import { describe, expect, it } from 'vitest';
import { InFlight } from '../../src/http/in-flight.js';
import { gate } from '../support/gate.js';

describe('InFlight.keep', () => {
  it('holds the drain until the kept work settles, fulfilled or rejected', async () => {
    const inFlight = new InFlight();
    const fulfilled = gate();
    let fail: (error: Error) => void = () => {};
    const rejected = new Promise<void>((_, reject) => {
      fail = reject;
    });
    inFlight.keep(fulfilled.opened);
    inFlight.keep(rejected);
    expect(inFlight.size).toBe(2);

    let drained = false;
    const drain = inFlight.drain().then(() => {
      drained = true;
    });
    fulfilled.open();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(inFlight.size).toBe(1);
    expect(drained).toBe(false);

    fail(new Error('the work reports its own failure'));
    await drain;
    expect(inFlight.size).toBe(0);
  });
});
