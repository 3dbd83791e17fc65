// A run's --shard of the cases (scenario × target): a deterministic split, the same on every host
// given the same catalogue, inventory and durations. The sanity scenario runs on every target of
// every shard: it gates each target's results. Nothing here loads anything (the command line
// parses --shard with it before it loads the harness).

/** Shard `index` of `count` (1-based), as `--shard 2/3` writes it. */
export interface Shard {
  index: number;
  count: number;
}

/** Parses `i/n` (1 ≤ i ≤ n); throws a message saying what is wrong. */
export function parseShard(spec: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(spec);
  if (!m) throw new Error(`"${spec}" is not a shard: write i/n, e.g. 1/4 (this host runs the first of four parts)`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new Error(`"${spec}": the number of shards must be at least 1`);
  if (index < 1 || index > count) throw new Error(`"${spec}": the shard number must be from 1 to ${count}`);
  return { index, count };
}

/**
 * The cases of one shard: a deterministic split of the cases (the sanity ones go to every shard),
 * the same on every host given the same catalogue, inventory and durations. With `durations`
 * (ms per case key, from an earlier results.json) the shards get about equal time: longest first,
 * each to the shard with the least so far; cases it does not know weigh the median of those it
 * does. Without, they get about equal counts.
 */
export function shardCases<C>(cases: readonly C[], shard: Shard, keyOf: (c: C) => string, isSanity: (c: C) => boolean, durations?: ReadonlyMap<string, number>): C[] {
  if (shard.count === 1) return [...cases];
  const known = [...(durations?.values() ?? [])].sort((a, b) => a - b);
  const typical = known.length ? known[known.length >> 1]! : 1;
  const weight = (c: C) => (durations ? durations.get(keyOf(c)) ?? typical : 1);
  const order = cases.filter((c) => !isSanity(c)).map((c) => ({ c, key: keyOf(c), w: weight(c) }))
    .sort((a, b) => b.w - a.w || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const load = Array.from({ length: shard.count }, () => 0);
  const mine = new Set<C>();
  for (const { c, w } of order) {
    const least = load.indexOf(Math.min(...load));
    load[least]! += w;
    if (least === shard.index - 1) mine.add(c);
  }
  return cases.filter((c) => isSanity(c) || mine.has(c));
}

/** The key of a case in shards, durations and merges. */
export function caseKey(scenario: string, target: string): string {
  return `${scenario} @ ${target}`;
}
