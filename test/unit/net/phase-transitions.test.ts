/**
 * Phases change in one place (issue 12 point 3): Connection.enter(), which publishes
 * `sightline:phase`. A bare assignment anywhere else would change the phase without the event,
 * so this test reads every source file and fails on one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sources(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

/** `x.phase = ...` or `#phase = ...` (not `==`, `===`, nor a declaration's initialiser). */
const ASSIGNMENT = /(?:\.|#)phase\s*=(?!=)/;

function assignments(file: string, text: string): string[] {
  return text.split('\n').flatMap((line, i) => (ASSIGNMENT.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : []));
}

describe('phase transitions', () => {
  it('no source file assigns a phase except Connection.enter()', () => {
    const found = sources('src').flatMap((f) => assignments(f, readFileSync(f, 'utf8')));
    const connection = join('src', 'net', 'connection.ts');
    const outside = found.filter((l) => !l.startsWith(`${connection}:`));
    expect(outside).toEqual([]);
    // The one assignment in connection.ts is enter()'s own.
    const text = readFileSync(connection, 'utf8');
    const enter = text.slice(
      text.indexOf('  enter(phase: Phase): void {'),
      text.indexOf('\n  }\n', text.indexOf('  enter(phase: Phase): void {')),
    );
    expect(found.filter((l) => l.startsWith(`${connection}:`))).toHaveLength(1);
    expect(enter).toMatch(/this\.#phase = phase;/);
  });

  it('the check finds a bare assignment (it can fail)', () => {
    expect(assignments('x.ts', 'c.phase = Phase.Tunnel;')).toHaveLength(1);
    expect(assignments('x.ts', '  this.#phase=Phase.Closed;')).toHaveLength(1);
    expect(assignments('x.ts', 'if (c.phase === Phase.Tunnel) go();')).toHaveLength(0);
    expect(assignments('x.ts', 'c.enter(Phase.Tunnel);')).toHaveLength(0);
  });
});
