import { hostname } from 'node:os';
import * as z from 'zod';
import { formatIssues } from '../../harness/scenario/model.ts';

// The restore journal: gateways are borrowed, not owned. Before the harness changes anything
// outside its own directories (the EMS install's config.json, the service's state) it copies
// the originals aside and writes down what to put back, on the gateway itself. A run that ends
// puts everything back and deletes the journal; a run that crashed leaves it, and the next run
// (or `npm run restore`) finds it and does the same. Every step is idempotent, so a restore
// interrupted half-way is simply done again.

export const Journal = z
  .object({
    format: z.literal(1),
    target: z.string(),
    by: z.object({ host: z.string(), pid: z.number().int() }).strict(),
    createdAt: z.string(),
    /** Files the run overwrites: the original's copy (null: there was none) and its mode. */
    files: z.array(z.object({ path: z.string(), backup: z.string().nullable(), mode: z.number().int().nullable() }).strict()),
    /** The service the run stops and starts, and whether it was running before. */
    service: z.object({ name: z.string(), wasRunning: z.boolean() }).strict().nullable(),
  })
  .strict();
export type Journal = z.infer<typeof Journal>;

/** What the journal needs from a gateway (SFTP and the driver's service control). */
export interface JournalOps {
  readFile(path: string): Promise<Buffer | undefined>;
  /** Mode null: the driver's default for a new file. */
  writeFile(path: string, data: Buffer, mode: number | null): Promise<void>;
  /** Written whole or not at all (temp file + rename). */
  writeFileAtomic(path: string, data: Buffer): Promise<void>;
  mode(path: string): Promise<number | null>;
  remove(path: string): Promise<void>;
  /** Stops EMS processes the harness started and removes the per-scenario directories; says what it did. */
  clearRuns(): Promise<string[]>;
  service?: { name: string; running(): Promise<boolean>; start(): Promise<void>; stop(): Promise<void> };
}

export interface JournalPaths {
  journal: string;
  /** backup(i) is where the i-th file's original is copied. */
  backup(i: number): string;
}

export async function readJournal(ops: JournalOps, paths: JournalPaths): Promise<Journal | undefined> {
  const raw = await ops.readFile(paths.journal);
  if (!raw) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw new Error(`${paths.journal} (restore journal on the gateway): not JSON (${(e as Error).message}); inspect it and restore by hand`);
  }
  const parsed = Journal.safeParse(data);
  if (!parsed.success) throw new Error(`${paths.journal} (restore journal on the gateway): ${formatIssues(parsed.error)}; inspect it and restore by hand`);
  return parsed.data;
}

/** Records the originals of `files` and the service state, before the first change. */
export async function beginJournal(ops: JournalOps, paths: JournalPaths, target: string, files: string[]): Promise<Journal> {
  const entries: Journal['files'] = [];
  for (const [i, path] of files.entries()) {
    const original = await ops.readFile(path);
    if (original) await ops.writeFile(paths.backup(i), original, 0o600);
    entries.push({ path, backup: original ? paths.backup(i) : null, mode: original ? await ops.mode(path) : null });
  }
  const journal: Journal = {
    format: 1,
    target,
    by: { host: hostname(), pid: process.pid },
    createdAt: new Date().toISOString(),
    files: entries,
    service: ops.service ? { name: ops.service.name, wasRunning: await ops.service.running() } : null,
  };
  await ops.writeFileAtomic(paths.journal, Buffer.from(JSON.stringify(journal, null, 2) + '\n'));
  return journal;
}

/** Puts the journaled files back as they were (a restore; after each scenario the scenario script does it on the gateway). */
export async function putBackFiles(ops: JournalOps, journal: Journal): Promise<string[]> {
  const done: string[] = [];
  for (const f of journal.files) {
    const original = f.backup ? await ops.readFile(f.backup) : undefined;
    if (f.backup && !original) throw new Error(`the journal's copy ${f.backup} of ${f.path} is missing: restore ${f.path} by hand`);
    if (original) {
      await ops.writeFile(f.path, original, f.mode);
      done.push(`restored ${f.path}`);
    } else {
      await ops.remove(f.path);
      done.push(`removed ${f.path} (it did not exist before)`);
    }
  }
  return done;
}

/** The whole restore: processes, files, directories, service state; the journal goes last. */
export async function restoreFromJournal(ops: JournalOps, paths: JournalPaths, journal: Journal): Promise<string[]> {
  const done = await ops.clearRuns();
  if (journal.service && ops.service) await ops.service.stop();
  done.push(...(await putBackFiles(ops, journal)));
  if (journal.service && ops.service) {
    if (journal.service.wasRunning) {
      await ops.service.start();
      done.push(`started ${journal.service.name} again`);
    } else {
      done.push(`left ${journal.service.name} stopped, as it was`);
    }
  }
  for (const f of journal.files) if (f.backup) await ops.remove(f.backup);
  await ops.remove(paths.journal);
  return done;
}
