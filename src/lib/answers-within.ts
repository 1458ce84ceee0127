/**
 * Whether `check` succeeds within `ms`: false when it fails, when it is
 * still pending after `ms`, or as soon as `giveUp` settles. A check that
 * never settles is left behind, not waited for.
 */
export async function answersWithin(
  check: () => Promise<unknown>,
  ms: number,
  giveUp?: Promise<unknown>,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const racers = [check().then(() => true), late];
  if (giveUp) racers.push(giveUp.then(() => false));
  try {
    return await Promise.race(racers);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
