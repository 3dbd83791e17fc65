import { outcomeOf, type Outcome } from './divergences.ts';
import type { ReportedResult, ResultsFile } from './results.ts';

// What changed between two runs (the release manager's "what changed between EMS 5.4.10 and
// 5.4.11?"), or between two targets of one run (the differential view: the simulator as the
// oracle, a gateway against it). Cases are paired by scenario × target (by scenario alone when
// two targets are compared); a case whose outcome got worse is a regression.

export interface CaseView {
  scenario: string;
  target: string;
  title: string;
  outcome: Outcome;
  verdict: string;
  class?: string;
  /** What the platform endpoint negotiated (its first completed handshake). */
  protocol?: string;
  cipher?: string;
}

export const COMPARED = ['outcome', 'verdict', 'class', 'protocol', 'cipher'] as const;
export type ComparedField = (typeof COMPARED)[number];

export interface Change {
  old: CaseView;
  new: CaseView;
  fields: Array<{ field: ComparedField; old?: string; new?: string }>;
  /** The outcome got worse (passed, skipped or known → broken → failed). */
  regressed: boolean;
}

export interface RunDiff {
  /** What each side is: a file, or a target of a run. */
  old: string;
  new: string;
  changes: Change[];
  /** Cases only the new side has, and only the old one. */
  added: CaseView[];
  removed: CaseView[];
  unchanged: number;
  regressions: number;
}

/** The sides of a diff: a run, optionally only one of its targets (then paired by scenario). */
export interface Side {
  label: string;
  doc: ResultsFile;
  target?: string;
}

/**
 * Outcomes that let a run exit 0 weigh nothing, but weak (weak crypto accepted: a release manager
 * wants to see a build start accepting it); broken (the lab) less than failed (the product).
 */
const SEVERITY: Record<Outcome, number> = { passed: 0, skipped: 0, known: 0, weak: 1, broken: 2, failed: 3 };

export function caseView(r: ReportedResult): CaseView {
  const hs = r.actual.evidence.observations.find((o) => o.kind === 'handshake-ok') as { protocol?: string; cipher?: string } | undefined;
  return {
    scenario: r.scenario,
    target: r.target,
    title: r.title,
    outcome: outcomeOf(r),
    verdict: r.actual.verdict,
    ...(r.actual.class ? { class: r.actual.class } : {}),
    ...(hs?.protocol ? { protocol: hs.protocol } : {}),
    ...(hs?.cipher ? { cipher: hs.cipher } : {}),
  };
}

export function diffRuns(oldSide: Side, newSide: Side): RunDiff {
  const byTarget = oldSide.target !== undefined || newSide.target !== undefined;
  const views = (s: Side) => {
    const out = new Map<string, CaseView>();
    for (const r of s.doc.results) {
      if (s.target !== undefined && r.target !== s.target) continue;
      out.set(byTarget ? r.scenario : `${r.scenario}\u0000${r.target}`, caseView(r));
    }
    return out;
  };
  const before = views(oldSide);
  const after = views(newSide);
  const changes: Change[] = [];
  const added: CaseView[] = [];
  let unchanged = 0;
  for (const [key, now] of after) {
    const was = before.get(key);
    if (!was) {
      added.push(now);
      continue;
    }
    const fields = COMPARED.filter((f) => was[f] !== now[f]).map((f) => ({ field: f, ...(was[f] !== undefined ? { old: was[f] } : {}), ...(now[f] !== undefined ? { new: now[f] } : {}) }));
    if (fields.length) changes.push({ old: was, new: now, fields, regressed: SEVERITY[now.outcome] > SEVERITY[was.outcome] });
    else unchanged++;
  }
  const removed = [...before].filter(([key]) => !after.has(key)).map(([, v]) => v);
  return { old: oldSide.label, new: newSide.label, changes, added, removed, unchanged, regressions: changes.filter((c) => c.regressed).length };
}

/** One line per change: `cert.x @ gw1: outcome passed → failed; verdict REFUSED → CONNECTED`. */
export function changeLine(c: Change): string {
  const where = c.old.target === c.new.target ? `${c.new.scenario} @ ${c.new.target}` : `${c.new.scenario} (${c.old.target} → ${c.new.target})`;
  return `${c.regressed ? 'REGRESSED ' : ''}${where}: ${c.fields.map((f) => `${f.field} ${f.old ?? '–'} → ${f.new ?? '–'}`).join('; ')}`;
}

export function caseLine(v: CaseView): string {
  return `${v.scenario} @ ${v.target}: ${v.outcome} (${v.verdict}${v.class ? `: ${v.class}` : ''})`;
}

export function diffSummary(d: RunDiff): string {
  return `${d.changes.length} changed (${d.regressions} regressed), ${d.added.length} new, ${d.removed.length} removed, ${d.unchanged} unchanged`;
}

/** The diff as terminal text (the `diff` command) or Markdown lines (matrix.md). */
export function renderDiffLines(d: RunDiff, md = false): string[] {
  const item = (s: string) => (md ? `- ${s.replace(/\|/g, '\\|')}` : `    ${s}`);
  const head = (s: string) => (md ? `\n**${s}**\n` : `  ${s}`);
  const lines = [md ? `${d.old} → ${d.new}: ${diffSummary(d)}.` : `${d.old} → ${d.new}: ${diffSummary(d)}`];
  const regressed = d.changes.filter((c) => c.regressed);
  const other = d.changes.filter((c) => !c.regressed);
  if (regressed.length) lines.push(head(`regressed (${regressed.length})`), ...regressed.map((c) => item(changeLine(c))));
  if (other.length) lines.push(head(`changed (${other.length})`), ...other.map((c) => item(changeLine(c))));
  if (d.added.length) lines.push(head(`new (${d.added.length})`), ...d.added.map((v) => item(caseLine(v))));
  if (d.removed.length) lines.push(head(`removed (${d.removed.length})`), ...d.removed.map((v) => item(caseLine(v))));
  return lines;
}
