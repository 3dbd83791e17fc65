import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The Allure HTML report: Allure 3's report engine (what `allure generate` runs; no Java) over the
// allure-results allure-mocha wrote, with categories that keep infrastructure apart from the
// product, and a history file when the caller names a persistent one.

const WORKER = fileURLToPath(new URL('./allure-worker.mjs', import.meta.url));
const OUTPUT_TAIL = 2000;

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

/**
 * Allure 3's report engine (@allurereport/core, what `allure generate` runs) in a process of its
 * own, started ahead: it loads Allure (~0.3 s) while the scenarios run, and is handed the work when
 * the results are complete. Unused, it ends when this process does (its stdin closes).
 */
export class AllureGenerator {
  readonly #child: ChildProcess;
  readonly #exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>;
  #output = '';

  constructor() {
    this.#child = spawn(process.execPath, [WORKER], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stdin!.on('error', () => undefined); // a worker that died early: its exit says why
    for (const stream of [this.#child.stdout!, this.#child.stderr!]) {
      stream.setEncoding('utf8').on('data', (d: string) => (this.#output = (this.#output + d).slice(-OUTPUT_TAIL)));
    }
    this.#exit = new Promise((resolve) => {
      this.#child.once('error', (error) => resolve({ code: null, signal: null, error }));
      this.#child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    this.#idle(true);
  }

  /** The generator's process id (for leak checks). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Writes the categories into the results and generates the report; returns the report's index.html. */
  async generate(o: AllureReportOptions): Promise<string> {
    await writeFile(join(o.resultsDir, 'categories.json'), JSON.stringify(CATEGORIES, null, 2) + '\n');
    const work = await mkdtemp(join(tmpdir(), 'allure-config-'));
    try {
      const configFile = join(work, 'allurerc.json');
      await writeFile(configFile, JSON.stringify({
        name: o.name,
        output: o.outputDir,
        ...(o.history ? { historyPath: o.history } : {}),
        categories: CATEGORIES_ALLURE3,
        plugins: {
          awesome: {
            options: {
              reportName: o.name,
              // Grouped by requirement family, then requirement ID: the release manager's view.
              groupBy: ['epic', 'feature'],
              // One self-contained file: opens from disk or a CI artifact, and is written in half the time.
              singleFile: true,
            },
          },
        },
      }, null, 2));
      // A stale report's files would otherwise pile up.
      await rm(o.outputDir, { recursive: true, force: true });
      this.#idle(false);
      this.#child.stdin!.end(JSON.stringify({ resultsDir: o.resultsDir, configFile, cwd: work }) + '\n');
      const { code, signal, error } = await this.#exit;
      const index = join(o.outputDir, 'index.html');
      if (code !== 0 || !(await stat(index).catch(() => undefined))) {
        const why = error ? error.message : `exited with ${code ?? signal}`;
        const tail = this.#output.trim().split('\n').slice(-5).join(' | ');
        throw new Error(`the Allure report generator ${why}${tail ? `: ${tail}` : ''}`);
      }
      return index;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /** Waiting for work, it must not keep this process alive. */
  #idle(idle: boolean): void {
    const handles = [this.#child, this.#child.stdin, this.#child.stdout, this.#child.stderr] as unknown as Array<{ ref(): void; unref(): void }>;
    for (const h of handles) {
      if (idle) h.unref();
      else h.ref();
    }
  }
}

/** Generates the report with a generator started ahead, or a new one. */
export function generateAllureReport(o: AllureReportOptions, generator = new AllureGenerator()): Promise<string> {
  return generator.generate(o);
}
