/** Byte helpers for parser tests. */

/** `buf` cut at the given offsets (clamped, deduplicated, in order): the chunks a socket might deliver. */
export function splitAt(buf: Buffer, points: readonly number[]): Buffer[] {
  const cuts = [...new Set(points.map((p) => Math.max(0, Math.min(buf.length, p))))].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...cuts, buf.length]) {
    out.push(buf.subarray(prev, c));
    prev = c;
  }
  return out;
}
