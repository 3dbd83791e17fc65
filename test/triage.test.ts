import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { warningLinesAsKnown } from '../harness/ems/warnings.ts';
import { isErrorLine, patternFor, shapeOf } from '../harness/ems/log-shape.ts';
import { triage, triageText, type TriageInput } from '../harness/report/triage.ts';
import { DEFAULT_INVENTORY, loadTargets } from '../targets/inventory.ts';

// Triage of a run for a new EMS release: unmatched EMS error lines grouped by shape, and the
// inventory's errorMap entries that matched nothing.

const result = (target: string, scenario: string, verdict: string, emsLog: string[], over: Partial<TriageInput> = {}): TriageInput =>
  ({ target, scenario, actual: { verdict, evidence: { emsLog } }, endedBy: 'evidence', ...over });

const NEW_RELEASE = [
  '+12ms [INFO ] 2025-03-04 10:15:02,001: twApi_Initialize: starting',
  '+41ms [ERROR] 2025-03-04 10:15:02,041: twTls_Verify: peer chain rejected (depth 1, error 0x18) for "Conformance Intermediate CA"',
  '+42ms [ERROR] 2025-03-04 10:15:02,042: TW_VALIDATE_CERT: Certificate rejected.  Code: 79, Reason = invalid CA certificate',
  '+55ms [ERROR] 2025-03-04 10:15:02,055: twTls_LoadKey: cannot open /opt/ems/session-1/k.p12: unsupported format',
];

describe('triage', () => {
  it('masks numbers, hex, paths and quoted values in a line\'s shape; its pattern matches every line of the shape', () => {
    const a = '[ERROR] 2025-03-04 10:15:02,041: twTls_Verify: peer chain rejected (depth 1, error 0x18) for "Conformance Intermediate CA"';
    const b = '+900ms [ERROR] 2025-03-05 11:00:00,000: twTls_Verify: peer chain rejected (depth 2, error 0x1A) for "Other CA"';
    assert.equal(shapeOf(a), 'twTls_Verify: peer chain rejected (depth <n>, error <hex>) for "…"');
    assert.equal(shapeOf(a), shapeOf(b));
    assert.ok(new RegExp(patternFor(a)).test(b), patternFor(a));
    assert.equal(shapeOf('[ERROR] x: cannot open C:\\ems\\s1\\k.p12 or /opt/ems/k.p12 (error:1E08010C:DECODER)'), 'x: cannot open <path> or <path> (error:<hex>:DECODER)');
    assert.equal(isErrorLine('[INFO ] 2025-03-04 10:15:02,001: twApi_Initialize: starting'), false);
    assert.equal(isErrorLine('[TRACE] x: config /tmp/session-cert.self-signed.refused/config.json'), false, 'a failure word in a path is no error');
    assert.equal(isErrorLine('TW_SSL_READ: Timed out or error waiting reading from socket'), true);
  });

  it('groups the lines no entry matched, from refused and HANG results, with counts and example scenarios', () => {
    const t = triage([
      result('gw1', 'baseline.intermediate-not-ca', 'REFUSED', NEW_RELEASE, { actual: { verdict: 'REFUSED', class: 'untrusted-cert', evidence: { emsLog: NEW_RELEASE } } }),
      result('gw1', 'baseline.expired-intermediate', 'HANG', [NEW_RELEASE[1]!.replace('depth 1', 'depth 2'), NEW_RELEASE[1]!]),
      result('gw2', 'cert.chain.other-ca-only', 'REFUSED', [NEW_RELEASE[1]!]),
      result('gw2', 'cert.validate-off.leaf-expired', 'REFUSED', [NEW_RELEASE[1]!]),
      result('gw2', 'baseline.untrusted-root', 'REFUSED', [NEW_RELEASE[1]!]),
      result('gw2', 'baseline.sanity', 'CONNECTED', [NEW_RELEASE[3]!]),
    ], [{ id: 'gw1', errorMap: [] }, { id: 'gw2', errorMap: [] }]);
    assert.deepEqual(t.unmatched.map((g) => [g.shape, g.count, g.results, g.targets]), [
      ['twTls_Verify: peer chain rejected (depth <n>, error <hex>) for "…"', 6, 5, ['gw1', 'gw2']],
      ['twTls_LoadKey: cannot open <path>: unsupported format', 1, 1, ['gw1']],
    ]);
    assert.equal(t.unmatched[0]!.examples.length, 3, 'three examples at most');
    assert.deepEqual(t.unmatched[0]!.examples[0], { target: 'gw1', scenario: 'baseline.intermediate-not-ca' });
    assert.doesNotMatch(t.unmatched[0]!.line, /^\+\d+ms/, 'the line as the EMS logged it');
    // Matched (Code: 79 is in the default map), INFO and CONNECTED lines are not triaged.
    assert.ok(t.unmatched.every((g) => !/Code: |starting/.test(g.shape)));
    const text = triageText(t).join('\n');
    assert.match(text, /6× in 5 results on gw1, gw2: twTls_Verify/);
    assert.match(text, /errorMap entry: - \{ pattern: 'twTls_Verify: peer chain rejected \\\(depth \\d\+, error \(\?:0x\)\?\[0-9A-Fa-f\]\+\\\) for "\[\^"\]\*"', class: <failure class> \}/);
  });

  it('a target\'s own entry that matches a line takes it out of triage', () => {
    const map = [{ pattern: 'twTls_Verify: peer chain rejected', class: 'untrusted-cert', origin: 'lab.yaml: targets[0].errorMap[0]' }];
    const t = triage([result('gw1', 'baseline.expired-intermediate', 'HANG', NEW_RELEASE, { errorMapHits: ['twTls_Verify: peer chain rejected'] })], [{ id: 'gw1', errorMap: map }]);
    assert.deepEqual(t.unmatched.map((g) => g.shape), ['twTls_LoadKey: cannot open <path>: unsupported format']);
    assert.deepEqual(t.unusedErrorMap, []);
  });

  it('reports an inventory entry no line of the run matched, naming where it was written (a likely typo)', () => {
    const map = [
      { pattern: 'twTls_Verfiy: peer chain rejected', class: 'untrusted-cert', origin: 'lab.yaml: targets[0].errorMap[0]' },
      { pattern: 'twTls_LoadKey: cannot open', class: 'key-load-error', origin: 'lab.yaml: targets[0].errorMap[1]' },
      { pattern: '^harness: ', class: 'infrastructure' }, // the driver's own: not the inventory's
    ];
    const t = triage([
      result('gw1', 'client.key-p12', 'REFUSED', NEW_RELEASE, { errorMapHits: ['twTls_LoadKey: cannot open'] }),
      result('gw2', 'baseline.sanity', 'BROKEN', [], { endedBy: 'not-run' }),
    ], [{ id: 'gw1', errorMap: map }, { id: 'gw2', errorMap: map }]);
    assert.deepEqual(t.unusedErrorMap, [{ target: 'gw1', pattern: 'twTls_Verfiy: peer chain rejected', class: 'untrusted-cert', origin: 'lab.yaml: targets[0].errorMap[0]' }],
      'gw2 ran nothing: its entries cannot have matched');
    assert.match(triageText(t).join('\n'), /unused errorMap entry \(matched no line of this run: a typo, or a line no scenario provoked\): lab\.yaml: targets\[0\]\.errorMap\[0\]: 'twTls_Verfiy/);
    assert.match(triageText(t, { limit: 5 }).join('\n'), /unused errorMap entries: gw1 1 \(.*conformance triage --results reports\/results\.json lists them\)/);
  });

  it('an inventory entry knows where it was written, for that report', async () => {
    const [simulator] = await loadTargets(DEFAULT_INVENTORY, ['simulator']);
    assert.match(simulator!.profile.errorMap[0]!.origin!, /default-inventory\.yaml: targets\[0\]\.errorMap\[0\]$/);
  });
});

describe('warning maps (LSR-WARN)', () => {
  const WARNINGS = [
    '+3ms [WARN ] 2025-03-04 10:15:02,003: http_server: SSL is disabled (ssl: false): local clients reach the REST server over plain HTTP; use TLS outside of testing',
    '+3ms [WARN ] 2025-03-04 10:15:02,003: LocalServer: anonymous REST access',
  ];

  it('keeps warning lines out of triage: the target\'s own warningMap and the default wording are known lines', () => {
    const refused = [result('gw1', 'cert.expired', 'REFUSED', WARNINGS)];
    assert.equal(triage(refused, [{ id: 'gw1', errorMap: [] }]).unmatched.length, 2, 'WARN lines are error lines to triage');
    const known = triage(refused, [{ id: 'gw1', errorMap: warningLinesAsKnown({}) }]);
    assert.deepEqual(known.unmatched.map((g) => g.shape), ['LocalServer: anonymous REST access'], 'the default wording knows the first');
    const own = triage(refused, [{ id: 'gw1', errorMap: warningLinesAsKnown({ warningMap: [{ pattern: 'LocalServer: anonymous REST access' }] }) }]);
    assert.deepEqual(own.unmatched, []);
    assert.deepEqual(own.unusedErrorMap, [], 'warning entries are not reported as unused errorMap entries');
  });

  it('an inventory warningMap names a known warning with a valid pattern, else the file and field are named', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'warning-map-'));
    try {
      const file = join(dir, 'inventory.yaml');
      const entry = (map: string) => `targets:\n  - id: sim\n    kind: local\n    executable: wsems\n    flavour: openssl\n    warningMap:\n${map}`;
      await writeFile(file, entry("      - { pattern: 'SSL is off', warning: ssl-off }\n"));
      const [t] = await loadTargets(file);
      assert.deepEqual(t!.profile.warningMap, [{ pattern: 'SSL is off', warning: 'ssl-off', origin: `${file}: targets[0].warningMap[0]` }]);
      await writeFile(file, entry("      - { pattern: 'x', warning: tls-off }\n      - { pattern: '(', warning: ssl-off }\n"));
      await assert.rejects(loadTargets(file), /targets\[0\]\.warningMap\[0\]\.warning: .*"ssl-off".*[\s\S]*targets\[0\]\.warningMap\[1\]\.pattern: pattern is not a valid regular expression/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
