import { readFile } from 'node:fs/promises';

// Small numeric helpers of the benchmark.

/** The p-th percentile (0..100) by the nearest-rank method; undefined for no values. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function median(values: readonly number[]): number | undefined {
  return percentile(values, 50);
}

/**
 * CPU time (user + system, ms) of this process's children that have exited and been waited for,
 * their own waited-for children included (Linux /proc; undefined elsewhere). Clock-tick resolution.
 */
export async function childCpuMs(): Promise<number | undefined> {
  try {
    // Fields after the ")" that ends the command name: utime, stime, cutime, cstime are the 12th to 15th.
    const fields = (await readFile('/proc/self/stat', 'utf8')).split(') ')[1]!.split(' ');
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system, ms) a live process has used itself, its children not included (Linux /proc). */
export async function processCpuMs(pid: number): Promise<number | undefined> {
  try {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** USER_HZ: 100 on every Linux the harness runs on (getconf CLK_TCK). */
const CLOCK_TICKS = 100;

export function round(n: number | undefined, digits = 1): number | undefined {
  if (n === undefined) return undefined;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
