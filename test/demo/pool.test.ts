import { describe, expect, it } from 'vitest';
import { runPool } from '../../src/demo/pool.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('runPool', () => {
  it('runs every item once with at most the given number in progress', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];

    await runPool([1, 2, 3, 4, 5, 6, 7], 3, async (item) => {
      running++;
      peak = Math.max(peak, running);
      await tick();
      done.push(item);
      running--;
    });

    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(peak).toBe(3);
  });

  it('stops taking items after a failure and rejects with it', async () => {
    const started: number[] = [];

    const run = runPool([1, 2, 3, 4], 1, async (item) => {
      started.push(item);
      if (item === 2) throw new Error('boom');
    });

    await expect(run).rejects.toThrow('boom');
    expect(started).toEqual([1, 2]);
  });
});
