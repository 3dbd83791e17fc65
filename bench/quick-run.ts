import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { median } from './stats.ts';

// The developer's loop: `npm run conformance -- --scenario <one id>` with everything warm (the
// simulator built, the CLI bundle and the certificate catalogue cached), timed from spawn to exit,
// npm included: what a developer waits for after an edit to a scenario.

const REPO = fileURLToPath(new URL('../', import.meta.url));

export interface QuickRuns {
  command: string;
  wallMs: number[];
  medianMs: number;
  exitCodes: Array<number | null>;
}

export async function measureQuickRuns(scenario: string, reportsDir: string, runs: number): Promise<QuickRuns> {
  const args = ['run', 'conformance', '--', '--scenario', scenario, '--reports', reportsDir];
  const once = async () => {
    const t0 = performance.now();
    const code = await new Promise<number | null>((resolve, reject) => {
      spawn('npm', args, { cwd: REPO, stdio: 'ignore' }).once('error', reject).once('close', resolve);
    });
    return { ms: performance.now() - t0, code };
  };
  await once(); // warm: a first run after a change builds what the later ones reuse
  const timed = [];
  for (let i = 0; i < runs; i++) timed.push(await once());
  await rm(reportsDir, { recursive: true, force: true });
  const wallMs = timed.map((t) => t.ms);
  return { command: `npm ${args.join(' ')}`, wallMs, medianMs: median(wallMs)!, exitCodes: timed.map((t) => t.code) };
}
