import { execa } from 'execa';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

// The Allure HTML report: Allure 3's `allure generate` (the `allure` npm package, no Java) over
// the allure-results allure-mocha wrote, with categories that keep infrastructure apart from the
// product, and a history file when the caller names a persistent one.

/**
 * Allure 2 categories (allure-results/categories.json, what Jenkins' Allure plugin reads). First
 * match wins: a BROKEN result is the lab, a FAILED one the EMS.
 */
export const CATEGORIES = [
  { name: 'Infrastructure problems (broken: not the product)', matchedStatuses: ['broken'] },
  { name: 'Conformance failures (the EMS deviates)', matchedStatuses: ['failed'] },
];

/** Allure 3 matches labels too: known and fixed divergences by the tag reportToAllure sets. */
const CATEGORIES_ALLURE3 = [
  { name: 'Known divergences (listed in targets/expectations)', matchers: { labels: { tag: '^divergence:known$' } } },
  { name: 'Fixed divergences — remove from list', matchers: { labels: { tag: '^divergence:fixed$' } } },
  ...CATEGORIES,
];

export interface AllureReportOptions {
  resultsDir: string;
  outputDir: string;
  /** A persistent JSONL history file (Allure 3 historyPath); trends and per-test history come from it. */
  history?: string;
  name: string;
}

/** Writes the categories into the results and generates the report; returns the report's index.html. */
export async function generateAllureReport(o: AllureReportOptions): Promise<string> {
  await writeFile(join(o.resultsDir, 'categories.json'), JSON.stringify(CATEGORIES, null, 2) + '\n');
  const work = await mkdtemp(join(tmpdir(), 'allure-config-'));
  try {
    const config = join(work, 'allurerc.json');
    await writeFile(config, JSON.stringify({
      name: o.name,
      output: o.outputDir,
      ...(o.history ? { historyPath: o.history } : {}),
      categories: CATEGORIES_ALLURE3,
      // Grouped by requirement family, then requirement ID: the release manager's view.
      plugins: { awesome: { options: { reportName: o.name, groupBy: ['epic', 'feature'] } } },
    }, null, 2));
    // A stale report's files (hashed bundle names) would otherwise pile up.
    await rm(o.outputDir, { recursive: true, force: true });
    const r = await execa(process.execPath, [allureCli(), 'generate', o.resultsDir, '--config', config, '--cwd', work], { reject: false, all: true });
    const index = join(o.outputDir, 'index.html');
    if (r.exitCode !== 0 || !(await stat(index).catch(() => undefined))) {
      throw new Error(`allure generate exited with ${r.exitCode ?? r.signal}${r.all ? `: ${r.all.trim().split('\n').slice(-5).join(' | ')}` : ''}`);
    }
    return index;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The `allure` package's CLI script (its package.json is not exported; its main is dist/index.js). */
function allureCli(): string {
  return join(dirname(createRequire(import.meta.url).resolve('allure')), '..', 'cli.js');
}
