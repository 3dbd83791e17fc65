import { ConformanceRun, type RunOptions } from '../harness/scenario/conformance-run.ts';
import { loadTargets } from '../targets/inventory.ts';

/** The tests' composition root: an inventory's drivers (optionally only some ids) handed to a run. */
export async function prepareRun(
  opts: Omit<RunOptions, 'targets'> & { only?: string[]; acceptNewHostKey?: boolean },
): Promise<ConformanceRun> {
  const { only, acceptNewHostKey, ...rest } = opts;
  return ConformanceRun.prepare({ ...rest, targets: await loadTargets(opts.inventory, only, { acceptNewHostKey: acceptNewHostKey ?? false }) });
}
