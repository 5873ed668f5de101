/** `--workers N|auto` (or config `workers`): how many processes; null when the value is not one. */
import { availableParallelism } from 'node:os';

export function workerCount(w: number | 'auto' | string): number | null {
  if (w === 'auto') return availableParallelism();
  const n = typeof w === 'number' ? w : /^\d+$/.test(w) ? Number(w) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= 256 ? n : null;
}
