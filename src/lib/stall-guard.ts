/**
 * Wraps steps that wait on another service: `onStall` is called when one has
 * not settled within `limitMs`. The step goes on; the guard only tells. Its
 * timer does not keep the process alive. Without `onStall`, steps pass
 * through untimed.
 */
export function stallGuard(
  limitMs: number,
  onStall: ((limitMs: number) => void) | undefined,
): <T>(step: Promise<T>) => Promise<T> {
  if (!onStall) return (step) => step;
  return (step) => {
    const timer = setTimeout(() => onStall(limitMs), limitMs);
    timer.unref();
    return step.finally(() => clearTimeout(timer));
  };
}
