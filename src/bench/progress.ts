import { elapsed } from './clock.js';

/** One line of progress on stderr, stamped with the run clock; stdout keeps the report. */
export function progress(message: string): void {
  process.stderr.write(`[${elapsed().toFixed(1).padStart(6)}s] ${message}\n`);
}
