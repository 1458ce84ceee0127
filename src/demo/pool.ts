/**
 * Runs `work` over `items` with at most `concurrency` calls in progress,
 * taking items in order. Rejects with the first error once the calls already
 * started have finished, so nothing is left running behind the caller.
 */
export async function runPool<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  // One iterator shared by every lane: each item is taken exactly once.
  const queue = items.values();
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    for (const item of queue) {
      if (failure) return;
      await work(item).catch((error: unknown) => {
        failure ??= { error };
      });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
  if (failure) throw failure.error;
}
