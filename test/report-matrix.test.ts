import { strict as assert } from 'node:assert';
import { applyDivergences } from '../harness/report/divergences.ts';
import { buildMatrix, renderMatrixHtml, renderMatrixMd, summaryLine } from '../harness/report/matrix.ts';
import { REQUIREMENT_IDS } from '../harness/scenario/requirements.ts';
import { fixtureDoc, fixtureExpectations } from './report-fixture.ts';

describe('conformance matrix', () => {
  const doc = fixtureDoc();
  doc.results = applyDivergences(doc.results, fixtureExpectations());
  const m = buildMatrix(doc);
  const row = (id: string) => m.families.flatMap((f) => f.rows).find((r) => r.id === id)!;
  const col = (target: string) => m.targets.findIndex((t) => t.id === target);

  it('has a row per requirement ID, grouped by family, and a column per target', () => {
    assert.deepEqual(m.families.flatMap((f) => f.rows).filter((r) => r.id).map((r) => r.id).sort(), [...REQUIREMENT_IDS].sort());
    assert.deepEqual(m.families.find((f) => f.rows.some((r) => r.id === 'CERT-HOST'))!.name, 'certificates');
    assert.deepEqual(m.targets.map((t) => t.id), ['simulator', 'gw-axtls']);
  });

  it('a cell is as bad as its worst result: failed, broken, known, passed, skipped, untested', () => {
    const gw = col('gw-axtls');
    assert.equal(row('CERT-VALIDATE').cells[gw]!.outcome, 'failed');
    assert.equal(row('CERT-CHAIN').cells[gw]!.outcome, 'broken');
    assert.equal(row('CERT-HOST').cells[gw]!.outcome, 'known');
    assert.equal(row('CERT-CRITERIA').cells[gw]!.outcome, 'passed');
    assert.equal(row('CERT-PATHS').cells[gw]!.outcome, 'skipped');
    assert.equal(row('FIPS-BUILD').cells[gw]!.outcome, 'untested');
    assert.equal(row('CERT-HOST').cells[col('simulator')]!.outcome, 'passed');
  });

  it('says per target how many requirements hold of those tested', () => {
    const [sim, gw] = m.summaries;
    assert.equal(summaryLine(sim!), `2 of 2 requirements hold (${REQUIREMENT_IDS.length - 2} not tested)`);
    assert.equal(summaryLine(gw!), `2 of 8 requirements hold (4 failing, 1 with known divergences, 1 broken (infrastructure), ${REQUIREMENT_IDS.length - 8} not tested)`);
  });

  it('shows a scenario that only leaked a secret as failing SECRET-NOLOG, holding for its own requirement', () => {
    const leaked = fixtureDoc();
    const sanity = leaked.results.find((r) => r.target === 'simulator' && r.scenario === 'baseline.sanity')!;
    Object.assign(sanity, {
      status: 'failed', requirements: ['BASE-SANITY', 'SECRET-NOLOG'], message: 'SECRET-NOLOG: the app key in stdout line 3: "‹app key›"',
      checks: { failed: ['SECRET-NOLOG'], expectationStatus: 'passed' },
    });
    const lm = buildMatrix(leaked);
    const cellOf = (id: string) => lm.families.flatMap((f) => f.rows).find((r) => r.id === id)!.cells[col('simulator')]!;
    assert.equal(cellOf('SECRET-NOLOG').outcome, 'failed');
    assert.equal(cellOf('BASE-SANITY').outcome, 'passed');
  });

  it('marks a run with an injected defect in its run line, and a run without none', () => {
    const defective = fixtureDoc();
    defective.results[0]!.injectedDefect = 'criteria-contains';
    assert.match(renderMatrixMd(defective, buildMatrix(defective)), /DEFECT INJECTED \(mutation testing, not a conformance verdict\): criteria-contains/);
    assert.doesNotMatch(renderMatrixMd(doc, m), /DEFECT INJECTED/);
  });

  it('keeps results without a requirement visible in a row of their own', () => {
    const harness = m.families.find((f) => f.name === 'harness')!;
    assert.equal(harness.rows[0]!.cells[col('simulator')]!.outcome, 'broken');
  });

  it('HTML: one self-contained page; cells link to evidence; text is escaped', () => {
    const html = renderMatrixHtml(doc, m);
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'/);
    assert.match(html, /<meta name="viewport" content="width=device-width/);
    assert.doesNotMatch(html, /<script|<link |\ssrc=|@import|url\(/i, 'nothing that could fetch');
    assert.match(html, /<tr id="req-CERT-HOST">/);
    assert.match(html, /<a href="#ev-gw-axtls--cert\.expired">cert\.expired<\/a> <span class="b failed">failed<\/span> REFUSED · untrusted-cert/);
    assert.match(html, /<article id="ev-gw-axtls--cert\.expired" class="failed">/);
    assert.match(html, /Title of cert\.expired &lt;with&gt; &quot;markup&quot; &amp; \| pipes/);
    assert.doesNotMatch(html, /<with>/);
    assert.match(html, /fixed — remove from list/);
    assert.match(html, /known divergence: C SDK 2\.2\.1 never checks the host name/);
  });

  it('Markdown: the same table, every row with one cell per column; evidence links into matrix.html', () => {
    const md = renderMatrixMd(doc, m);
    const table = md.split('\n').filter((l) => l.startsWith('|'));
    const cells = (l: string) => l.replace(/\\\|/g, '').split('|').length;
    assert.ok(table.length > REQUIREMENT_IDS.length);
    for (const l of table) assert.equal(cells(l), cells(table[0]!), l);
    assert.match(md, /- \*\*gw-axtls\*\* \(axtls · EMS 5\.4\.10\): 2 of 8 requirements hold/);
    assert.match(md, /\| `CERT-HOST` — .* \| ✅ holds \(1 passed\) \| 🔶 known divergence: \[cert\.host\.mismatch\]\(matrix\.html#ev-gw-axtls--cert\.host\.mismatch\) known CONNECTED \|/);
    assert.match(md, /## Needs a look[\s\S]*❌ \*\*failed\*\* \[cert\.expired\]\(matrix\.html#ev-gw-axtls--cert\.expired\) on gw-axtls: expected refusal: expired/);
  });
});
