const startedAt = performance.now();
const startedWallMs = Date.now();

/** Seconds since the run began, on the monotonic clock: the x axis of every series. */
export function elapsed(): number {
  return (performance.now() - startedAt) / 1000;
}

/** A wall-clock time (from PostgreSQL, say) as seconds since the run began. */
export function sinceStart(wall: Date): number {
  return (wall.getTime() - startedWallMs) / 1000;
}

export function runStartedAt(): Date {
  return new Date(startedWallMs);
}
