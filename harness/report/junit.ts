import { outcomeOf } from './divergences.ts';
import { evidenceAnchor, expectedText } from './matrix.ts';
import type { ReportedResult, ResultsFile } from './results.ts';

// reports/junit.xml for CI servers (Jenkins junit, GitLab unit test reports): one testsuite per
// target, one testcase per scenario × target. failed → <failure>, broken (infrastructure) →
// <error>, skipped and known divergences → <skipped> with the reason (as pytest's xfail does);
// weak (weak crypto accepted, a recorded policy) is no failure: a `weak` property and a system-out line.

export function junitXml(doc: ResultsFile): string {
  const suites = doc.run.targets.map((t) => {
    const results = doc.results.filter((r) => r.target === t.id);
    const props = [['flavour', t.flavour], ['emsVersion', t.emsVersion], ['capabilities', t.capabilities.join(',')]]
      .filter((p): p is [string, string] => p[1] !== undefined)
      .map(([name, value]) => `      <property name="${attr(name)}" value="${attr(value)}"/>`);
    return [
      `  <testsuite ${counts(results)} name="${attr(t.id)}" timestamp="${attr(doc.run.startedAt)}">`,
      '    <properties>',
      ...props,
      '    </properties>',
      ...results.map(testcase),
      '  </testsuite>',
    ].join('\n');
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="WS EMS conformance" ${counts(doc.results)}>`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}

function testcase(r: ReportedResult): string {
  // classname target.family: Jenkins shows it as package and class, GitLab as the suite.
  const head = `    <testcase classname="${attr(`${r.target}.${r.family}`)}" name="${attr(r.scenario)}" time="${seconds(r.durationMs)}"`;
  const outcome = outcomeOf(r);
  const note = r.divergence && r.divergence.state !== 'known' ? `${r.divergence.note}\n` : '';
  const message = `${note}${r.message ?? r.actual.because}`;
  const body: string[] = [];
  if (r.weak) body.push('      <properties>', `        <property name="weak" value="${attr(`${r.weak.what}: ${r.weak.evidence}`)}"/>`, '      </properties>');
  if (outcome === 'failed') body.push(`      <failure type="conformance" message="${attr(firstLine(message))}">${text(details(r, message))}</failure>`);
  if (outcome === 'broken') body.push(`      <error type="infrastructure" message="${attr(firstLine(message))}">${text(details(r, message))}</error>`);
  if (outcome === 'skipped') body.push(`      <skipped message="${attr(firstLine(message))}"/>`);
  if (outcome === 'known') body.push(`      <skipped message="${attr(r.divergence!.note)}"/>`);
  body.push(`      <system-out>${text(systemOut(r, outcome === 'passed' || outcome === 'weak' || outcome === 'skipped'))}</system-out>`);
  return `${head}>\n${body.join('\n')}\n    </testcase>`;
}

function details(r: ReportedResult, message: string): string {
  return [
    message,
    `expected: ${expectedText(r)}`,
    `got: ${r.actual.verdict}${r.actual.class ? ` (${r.actual.class})` : ''}: ${r.actual.because}`,
  ].join('\n');
}

/** The scenario in words and, for results a reader must look into, the EMS log excerpt. */
function systemOut(r: ReportedResult, brief: boolean): string {
  const lines = [
    r.title,
    `requirements: ${r.requirements.join(', ') || '(none)'}`,
    `expected: ${expectedText(r)}`,
    `got: ${r.actual.verdict}${r.actual.class ? ` (${r.actual.class})` : ''}: ${r.actual.because}`,
    ...(r.weak ? [`weak: ${r.weak.what} (${r.weak.evidence})`] : []),
    ...(r.divergence ? [`divergence: ${r.divergence.note}`] : []),
    `evidence: matrix.html#${evidenceAnchor(r)}`,
  ];
  if (!brief) lines.push('', 'EMS log (excerpt):', ...(r.actual.evidence.emsLog.length ? r.actual.evidence.emsLog : ['(no output)']));
  const lsr = r.actual.evidence.localServer;
  if (!brief && lsr) lines.push('', `local server, as the LSR saw it (${lsr.route}):`, JSON.stringify(lsr, null, 2));
  return lines.join('\n');
}

function counts(results: readonly ReportedResult[]): string {
  const n = { failures: 0, errors: 0, skipped: 0 };
  let ms = 0;
  for (const r of results) {
    const o = outcomeOf(r);
    if (o === 'failed') n.failures++;
    if (o === 'broken') n.errors++;
    if (o === 'skipped' || o === 'known') n.skipped++;
    ms += r.durationMs;
  }
  return `tests="${results.length}" failures="${n.failures}" errors="${n.errors}" skipped="${n.skipped}" time="${seconds(ms)}"`;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function firstLine(s: string): string {
  return s.split('\n')[0]!;
}

/** Characters XML 1.0 cannot carry at all (an EMS log may hold any byte). */
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

function text(s: string): string {
  return s.replace(NOT_XML, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function attr(s: string): string {
  return text(s).replace(/"/g, '&quot;').replace(/\n/g, '&#10;');
}
