// Ctrl-C during a run (docs/lab.md, "Interrupting a run"). The first SIGINT or SIGTERM stops
// scheduling: running scenarios end (verdict-watch.ts gives them INTERRUPT_GRACE_MS to reach a verdict),
// the rest are reported not run, every gateway is put back from its journal, results.json and the
// reports are written and the job exits 2. A second one leaves at once: connections cut, each
// gateway's journal left for the next run or `npm run restore`.

/**
 * A repeat this soon is the same Ctrl-C: a terminal sends it to every process of the job (npm, tsx
 * and the harness), and npm and tsx pass it on again.
 */
const SAME_CTRL_C_MS = 750;

export class RunInterrupt {
  readonly #controller = new AbortController();
  #received?: NodeJS.Signals;
  #at = 0;

  /** Aborted at the first signal; the run (conformance-run.ts) stops scheduling. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The first signal received, if any. */
  get received(): NodeJS.Signals | undefined {
    return this.#received;
  }

  /** Takes over SIGINT and SIGTERM for this process; returns the function that gives them back. */
  install(say: (line: string) => void, exitAtOnce: () => void = () => process.exit(2)): () => void {
    const on = (sig: NodeJS.Signals) => {
      if (this.#received && performance.now() - this.#at < SAME_CTRL_C_MS) return;
      if (!this.#received) {
        this.#received = sig;
        this.#at = performance.now();
        say(`conformance: ${sig}: stopping: no new scenario starts, running ones end, gateways are put back, results and reports are written (exit 2). ${sig} again leaves at once, the gateways' journals kept for the next run or npm run restore`);
        this.#controller.abort();
        return;
      }
      say(`conformance: ${sig} again: leaving at once; a gateway not put back yet keeps its journal: the next run restores it first, or run npm run restore -- --target <id>`);
      exitAtOnce();
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
    return () => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
    };
  }
}

/** The process's one interrupt: the CLI installs it, the run it builds (harness/mocha/) listens to its signal. */
export const runInterrupt = new RunInterrupt();
