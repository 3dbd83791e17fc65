import { REQUIREMENTS, type RequirementId } from '../scenario/requirements.ts';
import type { Expectation } from '../scenario/model.ts';
import { expectationText } from '../scenario/verdict.ts';
import { caseLine, changeLine, diffSummary, renderDiffLines, type RunDiff } from './diff.ts';
import { outcomeOf, type Outcome } from './divergences.ts';
import { suggestedEntry } from './triage.ts';
import type { ReportedResult, ResultsFile, TargetInfo } from './results.ts';

// The conformance matrix: rows are requirement IDs (grouped by family, with the promise), columns
// are targets, a cell is the verdict of the scenarios that check that requirement on that target,
// each linking to its evidence. One model, rendered as a self-contained HTML page (no network,
// readable on a phone) and as Markdown.

/** A cell's outcome: the worst of its results; "untested" when no scenario covers it. */
export type CellOutcome = Outcome | 'untested';

export interface MatrixCell {
  outcome: CellOutcome;
  results: ReportedResult[];
}

export interface MatrixRow {
  /** null: results whose scenario names no requirement (an invalid scenario definition). */
  id: RequirementId | null;
  promise: string;
  cells: MatrixCell[];
}

export interface TargetSummary {
  target: TargetInfo;
  /** Requirements whose every judged scenario passed. */
  hold: number;
  /** Requirements with at least one result that was not skipped. */
  tested: number;
  /** Requirements with no scenario, or only skipped ones, on this target. */
  untested: number;
  cells: Record<CellOutcome, number>;
}

export interface Matrix {
  targets: TargetInfo[];
  families: Array<{ name: string; rows: MatrixRow[] }>;
  summaries: TargetSummary[];
}

/** Worst first: a cell is as bad as its worst result (weak: a recorded policy, below known, above holds). */
const SEVERITY: CellOutcome[] = ['failed', 'broken', 'known', 'weak', 'passed', 'skipped', 'untested'];

export function buildMatrix(doc: ResultsFile): Matrix {
  const targets = doc.run.targets;
  const cell = (id: RequirementId | null, results: ReportedResult[]): MatrixCell => ({
    outcome: SEVERITY.find((o) => results.some((r) => outcomeIn(r, id) === o)) ?? 'untested',
    results,
  });
  const rowOf = (id: RequirementId | null, promise: string, has: (r: ReportedResult) => boolean): MatrixRow => ({
    id,
    promise,
    cells: targets.map((t) => cell(id, doc.results.filter((r) => r.target === t.id && has(r)))),
  });

  const families = new Map<string, MatrixRow[]>();
  for (const [id, req] of Object.entries(REQUIREMENTS) as Array<[RequirementId, (typeof REQUIREMENTS)[RequirementId]]>) {
    const rows = families.get(req.family) ?? [];
    rows.push(rowOf(id, req.promise, (r) => r.requirements.includes(id)));
    families.set(req.family, rows);
  }
  const out: Matrix['families'] = [...families].map(([name, rows]) => ({ name, rows }));
  if (doc.results.some((r) => r.requirements.length === 0)) {
    out.push({ name: 'harness', rows: [rowOf(null, 'Scenarios that name no valid requirement (invalid scenario definitions).', (r) => r.requirements.length === 0)] });
  }

  const summaries = targets.map((target, i): TargetSummary => {
    const cells = { passed: 0, failed: 0, skipped: 0, broken: 0, known: 0, weak: 0, untested: 0 };
    for (const row of out.flatMap((f) => f.rows)) if (row.id) cells[row.cells[i]!.outcome]++;
    const tested = cells.passed + cells.failed + cells.broken + cells.known + cells.weak;
    return { target, hold: cells.passed, tested, untested: cells.skipped + cells.untested, cells };
  });
  return { targets, families: out, summaries };
}

/**
 * A result's outcome in one requirement's row: a scenario that failed only a check every scenario
 * gets (SECRET-NOLOG, SECRET-ENCRYPT's strength) fails in that check's row; in the rows of its own
 * requirements it counts as its expectation came out.
 */
function outcomeIn(r: ReportedResult, id: RequirementId | null): Outcome {
  if (!r.checks || !id || r.checks.failed.includes(id)) return outcomeOf(r);
  return outcomeOf({ ...r, status: r.checks.expectationStatus });
}

/** The id of a result's evidence in matrix.html (JUnit and Markdown link to it too). */
export function evidenceAnchor(r: { target: string; scenario: string }): string {
  return `ev-${r.target}--${r.scenario}`.replace(/[^A-Za-z0-9._-]/g, '-');
}

const CELL_LABEL: Record<CellOutcome, string> = {
  passed: 'holds', failed: 'fails', broken: 'broken', known: 'known divergence', weak: 'weak', skipped: 'not applicable', untested: 'not tested',
};
const RESULT_LABEL: Record<Outcome, string> = { passed: 'passed', failed: 'failed', broken: 'broken', known: 'known', weak: 'weak', skipped: 'skipped' };
const MARK: Record<CellOutcome, string> = { passed: '✅', failed: '❌', broken: '⚠️', known: '🔶', weak: '🟠', skipped: '➖', untested: '⬜' };

export function summaryLine(s: TargetSummary): string {
  const extra = [
    s.cells.failed && `${s.cells.failed} failing`,
    s.cells.known && `${s.cells.known} with known divergences`,
    s.cells.weak && `${s.cells.weak} weak (weak crypto accepted)`,
    s.cells.broken && `${s.cells.broken} broken (infrastructure)`,
    s.untested && `${s.untested} not tested`,
  ].filter(Boolean);
  return `${s.hold} of ${s.tested} requirements hold${extra.length ? ` (${extra.join(', ')})` : ''}`;
}

function targetTitle(t: TargetInfo): string {
  return [t.flavour, t.emsVersion && `EMS ${t.emsVersion}`, t.fipsPolicy && `FIPS policy ${t.fipsPolicy}`].filter(Boolean).join(' · ');
}

function verdictText(r: ReportedResult): string {
  return `${r.actual.verdict}${r.actual.class ? ` · ${r.actual.class}` : ''}`;
}

/** The expectation in words; for a set, every member and which one held. */
export function expectedText(r: ReportedResult): string {
  if (!r.expectedAnyOf) return shortText(r.expected);
  const all = r.expectedAnyOf.map(shortText).join(' | ');
  return `one of: ${all}${r.met !== undefined ? `; held: ${shortText(r.expectedAnyOf[r.met]!)}` : ''}`;
}

function shortText(e: Expectation): string {
  if (e.outcome === 'connects') return `connects${e.weak ? ' (weak)' : ''}`;
  if (e.outcome === 'refuses') return `refuses (${e.class})`;
  return expectationText(e);
}

function runLine(doc: ResultsFile): string {
  const o = doc.run.outcome;
  return `Run ${doc.run.startedAt} (${(doc.run.durationMs / 1000).toFixed(1)} s), ${doc.harness.name} ${doc.harness.version}, ${doc.results.length} results` +
    (o ? `, exit code ${o.exitCode}${o.passRate !== undefined ? `, pass rate ${o.passRate}%` : ''}` : '') + defectNote(doc);
}

/** A run against EMS builds with a test-only defect (mutation testing) is no conformance verdict: every report says so. */
export function defectNote(doc: ResultsFile): string {
  const defects = [...new Set(doc.results.flatMap((r) => (r.injectedDefect ? [r.injectedDefect] : [])))];
  return defects.length ? `. DEFECT INJECTED (mutation testing, not a conformance verdict): ${defects.join(', ')}` : '';
}

// ---------------------------------------------------------------------------------------------
// HTML: inline CSS, no script, a CSP that forbids every fetch; tables scroll inside their box.

const CSS = `
:root{--ok:#1a7f37;--bad:#cf222e;--broken:#9a6700;--known:#8250df;--weak:#d4770b;--skip:#6e7781;--line:#d0d7de;--bg:#fff;--alt:#f6f8fa;--fg:#1f2328}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1280px;padding:0 12px 48px;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);overflow-wrap:anywhere}
h1{font-size:1.4em;margin:16px 0 4px}h2{font-size:1.15em;margin:28px 0 8px}h3{font-size:1em;margin:0 0 6px}
.meta{color:#57606a;font-size:.9em;margin:0 0 12px}
ul.summary{list-style:none;padding:0;margin:0}ul.summary li{margin:4px 0}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;border:1px solid var(--line);border-radius:6px}
table{border-collapse:separate;border-spacing:0;width:100%}
th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
thead th{background:var(--alt);font-size:.9em}
tbody th{position:sticky;left:0;background:var(--bg);font-weight:normal;min-width:9em;max-width:24em;border-right:1px solid var(--line)}
tr.family th{background:var(--alt);font-weight:600;text-transform:capitalize}
td{min-width:10em}
.promise{display:block;color:#57606a;font-size:.85em}
code{font-size:.92em}
.b{display:inline-block;padding:0 7px;border-radius:10px;font-size:.78em;font-weight:600;color:#fff;white-space:nowrap;vertical-align:1px}
.passed{--c:var(--ok)}.failed{--c:var(--bad)}.broken{--c:var(--broken)}.known{--c:var(--known)}.weak{--c:var(--weak)}.skipped,.untested{--c:var(--skip)}
.b{background:var(--c)}td.cell{border-left:4px solid var(--c)}
td ul{margin:4px 0 0;padding-left:1.1em}td li{font-size:.88em}
details summary{cursor:pointer;font-size:.88em;color:#57606a}
article{border:1px solid var(--line);border-left:4px solid var(--c);border-radius:6px;padding:8px 10px;margin:8px 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:0;font-size:.9em}dt{color:#57606a}dd{margin:0}
pre{white-space:pre-wrap;word-break:break-all;font-size:12px;background:var(--alt);padding:6px;border-radius:4px;max-height:28em;overflow:auto}
@media (max-width:640px){body{font-size:14px;padding:0 8px 32px}tbody th{min-width:8em;max-width:13em}td{min-width:8.5em}dl{grid-template-columns:1fr}dt{margin-top:4px}}
`;

/** `changes`: the "changes since baseline" section (`--baseline FILE`). */
export function renderMatrixHtml(doc: ResultsFile, m: Matrix = buildMatrix(doc), changes?: RunDiff): string {
  const head = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>WS EMS conformance matrix</title>
<style>${CSS}</style>
</head>`;
  const summary = m.summaries.map((s) =>
    `<li><span class="b ${s.cells.failed ? 'failed' : s.cells.broken ? 'broken' : s.cells.weak ? 'weak' : 'passed'}">${s.hold}/${s.tested}</span> <strong>${h(s.target.id)}</strong> <span class="meta">${h(targetTitle(s.target))}</span>: ${h(summaryLine(s))}</li>`,
  ).join('\n');
  const columns = m.targets.map((t) => `<th scope="col">${h(t.id)}<span class="promise">${h(targetTitle(t))}</span></th>`).join('');
  const body = m.families.map((f) => [
    `<tr class="family"><th colspan="${m.targets.length + 1}" scope="rowgroup">${h(f.name)}</th></tr>`,
    ...f.rows.map((row) => `<tr${row.id ? ` id="req-${row.id}"` : ''}><th scope="row"><code>${h(row.id ?? '(none)')}</code><span class="promise">${md2html(row.promise)}</span></th>${row.cells.map(cellHtml).join('')}</tr>`),
  ].join('\n')).join('\n');
  const evidence = m.targets.map((t) => {
    const results = doc.results.filter((r) => r.target === t.id);
    return `<h3>${h(t.id)} <span class="meta">${h(targetTitle(t))}</span></h3>\n${results.map(evidenceHtml).join('\n')}`;
  }).join('\n');
  const notes = doc.run.outcome?.reasons.length ? `<ul>${doc.run.outcome.reasons.map((r) => `<li>${h(r)}</li>`).join('')}</ul>` : '';
  return `${head}
<body>
<h1>WS EMS conformance matrix</h1>
<p class="meta">${h(runLine(doc))}. Other artifacts: <a href="allure-report/index.html">Allure report</a>, <a href="junit.xml">junit.xml</a>, <a href="results.json">results.json</a>.</p>
<ul class="summary">
${summary}
</ul>
${notes}
${changes ? changesHtml(changes) : ''}
<h2>Requirements × targets</h2>
<div class="scroll">
<table>
<thead><tr><th scope="col">Requirement</th>${columns}</tr></thead>
<tbody>
${body}
</tbody>
</table>
</div>
${triageHtml(doc)}
<h2 id="evidence">Evidence</h2>
${evidence}
</body>
</html>
`;
}

/** EMS lines no error-map entry matched (a new EMS release's lines to map) and errorMap entries that matched nothing. */
function triageHtml(doc: ResultsFile): string {
  const t = doc.run.triage;
  if (!t || (!t.unmatched.length && !t.unusedErrorMap.length)) return '';
  const rows = t.unmatched.map((g) => `<tr><td>${g.count}× in ${g.results}</td><td><code>${h(g.shape)}</code><span class="promise">${g.examples.map((e) => `<a href="#${evidenceAnchor(e)}">${h(e.target)}/${h(e.scenario)}</a>`).join(', ')}</span></td><td><code>${h(suggestedEntry(g))}</code></td></tr>`).join('\n');
  const unused = t.unusedErrorMap.map((u) => `<li><code>${h(u.pattern)}</code> (${h(u.class)}) — ${h(u.origin ?? u.target)}</li>`).join('');
  return `<h2 id="triage">Triage: EMS lines no error-map entry matched</h2>
<p class="meta">From refused and HANG results, grouped by shape (numbers, hex, paths and quoted values masked). Map them in the target's inventory <code>errorMap</code> (docs/target-profiles.md, "Error maps"); <code>conformance triage --results results.json</code> prints them.</p>
${rows ? `<div class="scroll"><table><thead><tr><th scope="col">lines</th><th scope="col">shape, examples</th><th scope="col">errorMap entry to start from</th></tr></thead><tbody>\n${rows}\n</tbody></table></div>` : ''}
${unused ? `<h3>Unused errorMap entries (matched no line of this run: a typo, or a line no scenario provoked)</h3><ul>${unused}</ul>` : ''}`;
}

function changesHtml(d: RunDiff): string {
  const link = (scenario: string, target: string, text: string) => `<a href="#${evidenceAnchor({ scenario, target })}">${h(text)}</a>`;
  const groups: Array<[string, string, string[]]> = [
    ['regressed', 'failed', d.changes.filter((c) => c.regressed).map((c) => link(c.new.scenario, c.new.target, changeLine(c)))],
    ['changed', 'known', d.changes.filter((c) => !c.regressed).map((c) => link(c.new.scenario, c.new.target, changeLine(c)))],
    ['new', 'passed', d.added.map((v) => link(v.scenario, v.target, caseLine(v)))],
    ['removed', 'skipped', d.removed.map((v) => h(caseLine(v)))],
  ];
  const lists = groups.filter(([, , items]) => items.length)
    .map(([name, cls, items]) => `<h3><span class="b ${cls}">${name}</span> ${items.length}</h3><ul>${items.map((i) => `<li>${i}</li>`).join('')}</ul>`);
  return `<h2 id="changes">Changes since baseline</h2>\n<p class="meta">${h(d.old)} → ${h(d.new)}: ${h(diffSummary(d))}.</p>\n${lists.join('\n')}`;
}

function cellHtml(c: MatrixCell): string {
  const link = (r: ReportedResult) =>
    `<li><a href="#${evidenceAnchor(r)}">${h(r.scenario)}</a> <span class="b ${outcomeOf(r)}">${RESULT_LABEL[outcomeOf(r)]}</span> ${h(verdictText(r))}${r.divergence?.state === 'fixed' ? ' <strong>fixed — remove from list</strong>' : ''}</li>`;
  const passing = c.results.filter((r) => outcomeOf(r) === 'passed' && r.divergence?.state !== 'fixed');
  const rest = c.results.filter((r) => !passing.includes(r));
  const label = `<span class="b ${c.outcome}">${CELL_LABEL[c.outcome]}</span>`;
  // Passing scenarios fold away so a phone screen shows what needs reading.
  const folded = passing.length ? `<details><summary>${passing.length} passed</summary><ul>${passing.map(link).join('')}</ul></details>` : '';
  return `<td class="cell ${c.outcome}">${label}${rest.length ? `<ul>${rest.map(link).join('')}</ul>` : ''}${folded}</td>`;
}

function evidenceHtml(r: ReportedResult): string {
  const o = outcomeOf(r);
  const ev = r.actual.evidence;
  const open = o === 'passed' ? '' : ' open';
  const rows: Array<[string, string]> = [
    ['requirements', r.requirements.map((id) => `<a href="#req-${id}">${id}</a>`).join(', ') || '(none)'],
    ['expected', h(expectedText(r))],
    ['got', `${h(verdictText(r))}: ${h(r.actual.because)}`],
    ...(r.message ? [['message', h(r.message)] as [string, string]] : []),
    ...(r.weak ? [['weak', `${h(r.weak.what)}: ${h(r.weak.evidence)}`] as [string, string]] : []),
    ...(r.divergence ? [['divergence', `${h(r.divergence.note)} — <a href="${h(r.divergence.listed.link)}">tracking</a>`] as [string, string]] : []),
    ['took', `${r.durationMs} ms${r.verdictLatencyMs !== undefined ? `, verdict ${r.verdictLatencyMs} ms after the evidence` : ''}, ended by ${h(r.endedBy)}`],
    ...(ev.exit ? [['EMS exit', h(`code ${ev.exit.code ?? '-'}${ev.exit.signal ? `, signal ${ev.exit.signal}` : ''}`)] as [string, string]] : []),
    ...(ev.restConnected !== undefined ? [['REST isConnected', String(ev.restConnected)] as [string, string]] : []),
  ];
  return `<article id="${evidenceAnchor(r)}" class="${o}">
<h3><span class="b ${o}">${RESULT_LABEL[o]}</span> <code>${h(r.scenario)}</code> — ${h(r.title)}</h3>
<dl>${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>
<details${open}><summary>endpoint observations (${ev.observations.length})</summary><pre>${h(ev.observations.map((x) => JSON.stringify(x)).join('\n') || '(none)')}</pre></details>
<details${open}><summary>EMS log excerpt (${ev.emsLog.length} lines)</summary><pre>${h(ev.emsLog.join('\n') || '(no output)')}</pre></details>
${ev.localServer ? `<details${open}><summary>local server, as the LSR saw it (${h(ev.localServer.route)})</summary><pre>${h(JSON.stringify(ev.localServer, null, 2))}</pre></details>` : ''}
${ev.config ? `<details><summary>config.json (redacted)</summary><pre>${h(JSON.stringify(ev.config, null, 2))}</pre></details>` : ''}
</article>`;
}

function h(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The promises use `code` spans (Markdown); shown as <code> in HTML. */
function md2html(s: string): string {
  return h(s).replace(/`([^`]+)`/g, '<code>$1</code>');
}

// ---------------------------------------------------------------------------------------------
// Markdown: the same table for a merge request or a wiki; evidence links go to matrix.html.

export function renderMatrixMd(doc: ResultsFile, m: Matrix = buildMatrix(doc), changes?: RunDiff): string {
  const lines = [
    '# WS EMS conformance matrix',
    '',
    `${runLine(doc)}.`,
    '',
    ...m.summaries.map((s) => `- **${s.target.id}** (${targetTitle(s.target)}): ${summaryLine(s)}`),
    ...(doc.run.outcome?.reasons.map((r) => `- ${r}`) ?? []),
    ...(changes ? ['', '## Changes since baseline', '', ...renderDiffLines(changes, true)] : []),
    '',
    '## Requirements × targets',
    '',
    `| Requirement | ${m.targets.map((t) => `${cellText(t.id)}<br>${cellText(targetTitle(t))}`).join(' | ')} |`,
    `|---|${m.targets.map(() => '---').join('|')}|`,
  ];
  for (const f of m.families) {
    lines.push(`| **${cellText(f.name)}** |${m.targets.map(() => ' ').join('|')}|`);
    for (const row of f.rows) {
      lines.push(`| \`${row.id ?? '(none)'}\` — ${cellText(row.promise)} | ${row.cells.map(cellMd).join(' | ')} |`);
    }
  }
  // Skipped results are the target's profile at work (the matrix shows them as not applicable).
  const notPassing = doc.results.filter((r) => !['passed', 'skipped'].includes(outcomeOf(r)) || r.divergence);
  const because = (r: ReportedResult) => r.divergence?.note ?? r.message ?? (r.weak ? `${r.weak.what}: ${r.weak.evidence}` : r.actual.because);
  if (notPassing.length) {
    lines.push('', '## Needs a look', '');
    for (const r of notPassing) {
      lines.push(`- ${MARK[outcomeOf(r)]} **${RESULT_LABEL[outcomeOf(r)]}** [${r.scenario}](matrix.html#${evidenceAnchor(r)}) on ${r.target}: ${oneLine(because(r))}`);
    }
  }
  const t = doc.run.triage;
  if (t && (t.unmatched.length || t.unusedErrorMap.length)) {
    lines.push('', '## Triage: EMS lines no error-map entry matched', '', 'From refused and HANG results, by shape; map them in the target\'s inventory `errorMap`.', '');
    for (const g of t.unmatched) lines.push(`- ${g.count}× in ${g.results} (${g.examples.map((e) => `[${e.target}/${e.scenario}](matrix.html#${evidenceAnchor(e)})`).join(', ')}): \`${cellText(g.shape)}\` → \`${cellText(suggestedEntry(g))}\``);
    for (const u of t.unusedErrorMap) lines.push(`- unused errorMap entry (matched no line of this run): \`${cellText(u.pattern)}\` (${u.class}) — ${cellText(u.origin ?? u.target)}`);
  }
  lines.push('', `Legend: ${(Object.keys(CELL_LABEL) as CellOutcome[]).map((o) => `${MARK[o]} ${CELL_LABEL[o]}`).join(', ')}. Evidence of every result: [matrix.html](matrix.html#evidence).`, '');
  return lines.join('\n');
}

function cellMd(c: MatrixCell): string {
  const passed = c.results.filter((r) => outcomeOf(r) === 'passed').length;
  const others = c.results.filter((r) => outcomeOf(r) !== 'passed' || r.divergence?.state === 'fixed')
    .map((r) => `[${r.scenario}](matrix.html#${evidenceAnchor(r)}) ${RESULT_LABEL[outcomeOf(r)]} ${verdictText(r)}${r.divergence?.state === 'fixed' ? ' (fixed — remove from list)' : ''}`);
  return `${MARK[c.outcome]} ${CELL_LABEL[c.outcome]}${passed ? ` (${passed} passed)` : ''}${others.length ? `: ${cellText(others.join('; '))}` : ''}`;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ');
}

/** Pipes and line breaks would end a table cell. */
function cellText(s: string): string {
  return oneLine(s).replace(/\|/g, '\\|');
}
