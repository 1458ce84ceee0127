import type { Movement } from './berka.js';

/** The extra idempotency checks made while replaying a movement. */
export interface Probes {
  /** Send the first POST twice at the same moment; both must name one transfer. */
  race: boolean;
  /** Resubmit right after the 202, while the transfer is most likely pending. */
  replayEarly: boolean;
  /** Resubmit once the transfer is posted; the replay must show it posted. */
  replayLate: boolean;
  /** Reuse the key with a different amount; must be 422 idempotency_key_reused. */
  reuseChanged: boolean;
}

/**
 * Chosen by the movement's line in the file, so every run checks the same
 * movements: every 16th line is resubmitted (6.25%), half of them early and
 * half late; every 64th is raced; every 256th has its key reused.
 */
export function probesFor(movement: Pick<Movement, 'line'>): Probes {
  const { line } = movement;
  return {
    race: line % 64 === 40,
    replayEarly: line % 32 === 0,
    replayLate: line % 32 === 16,
    reuseChanged: line % 256 === 128,
  };
}
