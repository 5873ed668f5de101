/** Expand `match.ports` (number, array, `{from, to}` ranges, or a mix) into sorted unique ports. */
export type PortRange = { readonly from: number; readonly to: number };
export type PortSpec = number | PortRange | ReadonlyArray<number | PortRange>;

export function expandPorts(spec: PortSpec): number[] {
  const out = new Set<number>();
  const add = (p: number | PortRange): void => {
    if (typeof p === 'number') out.add(p);
    else for (let i = p.from; i <= p.to; i++) out.add(i);
  };
  if (Array.isArray(spec)) for (const p of spec as ReadonlyArray<number | PortRange>) add(p);
  else add(spec as number | PortRange);
  return [...out].sort((a, b) => a - b);
}
