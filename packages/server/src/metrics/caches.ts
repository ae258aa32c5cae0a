/**
 * Every in-process cache registers here with its bound; /metrics shows each one's entries and
 * bound (`codemie_cache_entries{cache}`, `codemie_cache_max_entries{cache}`), so a cache that
 * grows without one, or sits at its bound all day, shows up. Owners are held weakly: a cache
 * whose owner is gone (a stopped test platform) drops out.
 */
interface Tracked {
  name: string;
  owner: WeakRef<object>;
  size: (owner: object) => number;
  max: number;
}

const tracked: Tracked[] = [];

export function trackCache<T extends object>(name: string, owner: T, size: (owner: T) => number, max: number): void {
  tracked.push({ name, owner: new WeakRef(owner), size: size as (o: object) => number, max });
}

/** Entries and bound per cache name, summed over the live owners. */
export function cacheStats(): Map<string, { entries: number; max: number }> {
  const out = new Map<string, { entries: number; max: number }>();
  for (let i = tracked.length - 1; i >= 0; i--) {
    const t = tracked[i]!;
    const owner = t.owner.deref();
    if (!owner) {
      tracked.splice(i, 1);
      continue;
    }
    const s = out.get(t.name) ?? { entries: 0, max: 0 };
    s.entries += t.size(owner);
    s.max += t.max;
    out.set(t.name, s);
  }
  return out;
}
