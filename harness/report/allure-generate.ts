import { spawn, type ChildProcess } from 'node:child_process';
import { rm, stat, writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The Allure HTML report: Allure 3's report engine (what `allure generate` runs; no Java) over the
// allure-results allure-mocha wrote, with categories that keep infrastructure apart from the
// product, and a history file when the caller names a persistent one.

/** allure-worker.mjs, or its bundle when harness/launch.mjs made one (the same code, loaded as one file). */
const WORKER = process.env.CONFORMANCE_ALLURE_WORKER || fileURLToPath(new URL('./allure-worker.mjs', import.meta.url));
const OUTPUT_TAIL = 2000;
const BACKGROUND_NICE = 10;

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
  { name: 'Weak crypto accepted (recorded policy)', matchers: { labels: { tag: '^weak$' } } },
  ...CATEGORIES,
];

export interface AllureReportOptions {
  resultsDir: string;
  outputDir: string;
  /** A persistent JSONL history file (Allure 3 historyPath); trends and per-test history come from it. */
  history?: string;
  name: string;
}

/** The report's title: the targets of the run. */
export function allureReportName(targetIds: string[]): string {
  return `WS EMS conformance: ${targetIds.join(', ')}`;
}

/**
 * Allure 3's report engine (@allurereport/core, what `allure generate` runs) in a process of its
 * own (allure-worker.mjs), started ahead: it loads Allure while the scenarios run. After begin(),
 * it reads each results file handed to it with add() as the run writes them, so that at the end
 * only the report itself remains to be made. Unused, it ends when this process does (its stdin
 * closes).
 */
export class AllureGenerator {
  readonly #child: ChildProcess;
  readonly #exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>;
  #output = '';
  /** The report begin() started, whose results add() hands over. */
  #begun: AllureReportOptions | undefined;

  constructor() {
    // Its own process group: a Ctrl-C in the terminal reaches the harness only, which still makes the report (it ends with our stdin).
    this.#child = spawn(process.execPath, [WORKER], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.#child.stdin!.on('error', () => undefined); // a worker that died early: its exit says why
    // Loading Allure is background work until the results are complete: it yields the CPU to the
    // scenarios (on a busy machine it waits for idle moments, of which a run has plenty).
    // Gone already (its exit says why), or a system that refuses: it runs at normal priority.
    prioritise(this.#child.pid, getPriority() + BACKGROUND_NICE);
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

  /** Starts the report now; the results files add() is given are read while the run goes on. */
  begin(o: AllureReportOptions): void {
    this.#send({ begin: allureConfig(o) });
    this.#begun = o;
  }

  /** A results file in its final form (written and redacted), for a report begin() started. */
  add(file: string): void {
    if (this.#begun) this.#send({ read: file });
  }

  /**
   * Writes the categories into the results and generates the report; returns its index.html.
   * `reread`: files were changed after add() (the report step's redaction pass rewrote some), or
   * the report differs from the one begun: every result is read again from the directory.
   */
  async generate(o: AllureReportOptions, opts: { reread?: boolean } = {}): Promise<string> {
    const categories = join(o.resultsDir, 'categories.json');
    await writeFile(categories, JSON.stringify(CATEGORIES, null, 2) + '\n');
    const incremental = !opts.reread && this.#begun !== undefined && sameReport(this.#begun, o);
    if (incremental) this.add(categories);
    else this.#send({ begin: allureConfig(o) });
    // A stale report's files would otherwise pile up.
    await rm(o.outputDir, { recursive: true, force: true });
    this.#idle(false);
    // From here the report is what the run waits for: back to this process's priority where the
    // system lets us (raising one needs root or RLIMIT_NICE; else it stays in the background).
    prioritise(this.#child.pid, getPriority());
    this.#send({ finish: incremental ? {} : { resultsDir: o.resultsDir } });
    this.#child.stdin!.end();
    const { code, signal, error } = await this.#exit;
    const index = join(o.outputDir, 'index.html');
    if (code !== 0 || !(await stat(index).catch(() => undefined))) {
      const why = error ? error.message : `exited with ${code ?? signal}`;
      const tail = this.#output.trim().split('\n').slice(-5).join(' | ');
      throw new Error(`the Allure report generator ${why}${tail ? `: ${tail}` : ''}`);
    }
    return index;
  }

  #send(msg: Record<string, unknown>): void {
    this.#child.stdin!.write(`${JSON.stringify(msg)}\n`);
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

/**
 * Sets a process's priority, every thread of it: on Linux a priority is a thread's, and one set on
 * the process id reaches only its main thread (the others keep what they had: Node's helper
 * threads, which write the report's files and collect garbage). Elsewhere, the process id. Best
 * effort: a refusal leaves it as it was.
 */
function prioritise(pid: number | undefined, priority: number): void {
  if (pid === undefined) return;
  let ids = [pid];
  try {
    ids = readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    // No /proc (not Linux), or gone already.
  }
  for (const id of ids) {
    try {
      setPriority(id, Math.min(19, priority));
    } catch {
      // Gone, or not ours to raise.
    }
  }
}

/** The Allure 3 configuration (what an allurerc.json holds) of a report. */
function allureConfig(o: AllureReportOptions): Record<string, unknown> {
  return {
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
  };
}

function sameReport(a: AllureReportOptions, b: AllureReportOptions): boolean {
  return a.resultsDir === b.resultsDir && a.outputDir === b.outputDir && a.name === b.name && a.history === b.history;
}
