import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

// docs/mutation-review.md as data: one `### <REQUIREMENT-ID>` section per requirement, each with a
// table whose rows are | `defect` | what goes wrong | killed by | status |. The mutation runner
// (test/mutation/mutation.ts) runs what the rows claim; test/mutation-review.test.ts checks the
// review against the requirement catalogue, the scenario catalogue and the simulator's switch.

export const REVIEW = fileURLToPath(new URL('../../docs/mutation-review.md', import.meta.url));

/**
 * - `killed`: a scenario naming the requirement fails against the defect (the row that owns it);
 * - `recorded`: the requirement is a recorded policy; the defect turns its scenario weak;
 * - `also-killed` / `also-recorded`: a defect owned by another row, claimed here for this requirement too;
 * - `excluded`: argued in the review (cannot be killed black-box, or not a defect the promise forbids); not run.
 */
export type RowStatus = 'killed' | 'recorded' | 'also-killed' | 'also-recorded' | 'excluded';

export interface ReviewRow {
  requirement: string;
  defect: string;
  killers: string[];
  status: RowStatus;
  /** The default target whose simulator the defect is injected into. */
  base: string;
  /** Where the row is, for errors: `docs/mutation-review.md:123`. */
  where: string;
}

export interface Review {
  /** Every `### ID` section, in order. */
  requirements: string[];
  rows: ReviewRow[];
}

const SECTION = /^###\s+([A-Z0-9]+(?:-[A-Z0-9]+)+)\b/;
const ROW = /^\|\s*`([a-z0-9][a-z0-9.-]*)`\s*\|(.*)\|\s*$/;
const BASES = ['simulator', 'simulator-axtls', 'simulator-csdk221'] as const;

export function parseReview(text: string, file = 'docs/mutation-review.md'): Review {
  const requirements: string[] = [];
  const rows: ReviewRow[] = [];
  let current: string | undefined;
  text.split('\n').forEach((line, i) => {
    const where = `${file}:${i + 1}`;
    const section = SECTION.exec(line);
    if (section) {
      current = section[1]!;
      requirements.push(current);
      return;
    }
    const row = ROW.exec(line);
    if (!row) return;
    if (!current) throw new Error(`${where}: a defect row outside a ### <REQUIREMENT-ID> section`);
    const cells = row[2]!.split('|').map((c) => c.trim());
    if (cells.length !== 3) throw new Error(`${where}: expected 4 cells (defect | what goes wrong | killed by | status), got ${cells.length + 1}`);
    const [, killedBy, statusText] = cells as [string, string, string];
    rows.push({
      requirement: current,
      defect: row[1]!,
      killers: [...killedBy.matchAll(/`([a-z0-9][a-z0-9.-]*)`/g)].map((m) => m[1]!),
      status: statusOf(statusText, where),
      base: BASES.find((b) => statusText.includes(`on \`${b}\``)) ?? 'simulator',
      where,
    });
  });
  return { requirements, rows };
}

function statusOf(text: string, where: string): RowStatus {
  const t = text.toLowerCase();
  if (t.startsWith('killed')) return 'killed';
  if (t.startsWith('recorded')) return 'recorded';
  if (t.startsWith('also killed')) return 'also-killed';
  if (t.startsWith('also recorded')) return 'also-recorded';
  if (t.startsWith('excluded')) return 'excluded';
  throw new Error(`${where}: status "${text}" is none of: killed, recorded (weak), also killed, also recorded (weak), excluded: <why>`);
}

export async function readReview(file = REVIEW): Promise<Review> {
  return parseReview(await readFile(file, 'utf8'));
}

/** A defect the mutation test runs: its owning row and every row that claims something of it. */
export interface ReviewedDefect {
  name: string;
  owner: ReviewRow;
  rows: ReviewRow[];
}

/** The defects to run (owned by a killed or recorded row), in review order. */
export function runnableDefects(review: Review): ReviewedDefect[] {
  const owners = review.rows.filter((r) => r.status === 'killed' || r.status === 'recorded');
  return owners.map((owner) => ({ name: owner.defect, owner, rows: review.rows.filter((r) => r.defect === owner.defect && r.status !== 'excluded') }));
}
