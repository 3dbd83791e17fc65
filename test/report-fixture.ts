import type { TargetExpectations } from '../harness/report/divergences.ts';
import type { ReportedResult, ResultsFile } from '../harness/report/results.ts';
import type { ScenarioResult } from '../harness/scenario/run.ts';

// A saved run with one result of every kind on two targets, for the report writers' tests: what a
// real run rarely shows at once (failures, broken, skipped, known, fixed, changed, invalid).

/** A private key as an EMS might echo it into its log: no writer may let it through. */
export const PEM_IN_LOG = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';
export const FIXTURE_SECRET = 'fixture-passphrase-0xC0FFEE';

function result(over: Partial<ScenarioResult> & Pick<ScenarioResult, 'scenario' | 'target' | 'status'>): ScenarioResult {
  return {
    family: over.scenario.split('.')[0]!,
    title: `Title of ${over.scenario} <with> "markup" & | pipes`,
    requirements: ['CERT-VALIDATE'],
    expected: { outcome: 'connects' },
    actual: {
      verdict: 'CONNECTED',
      because: 'platform accepted AUTH',
      evidence: { observations: [{ kind: 'tcp-accepted', at: 1, remote: '127.0.0.1:5000' }], emsLog: ['+5ms [INFO] started'] },
    },
    durationMs: 120,
    endedBy: 'evidence',
    ...over,
  };
}

export function fixtureDoc(): ResultsFile {
  const results: ReportedResult[] = [
    result({ scenario: 'baseline.sanity', target: 'simulator', status: 'passed', requirements: ['BASE-SANITY'] }),
    result({ scenario: 'baseline.sanity', target: 'gw-axtls', status: 'passed', requirements: ['BASE-SANITY'] }),
    result({
      scenario: 'cert.host.mismatch', target: 'gw-axtls', status: 'failed', requirements: ['CERT-HOST'],
      expected: { outcome: 'refuses', class: 'hostname-mismatch' },
      message: 'unexpected success: expected refusal: hostname-mismatch',
    }),
    result({
      scenario: 'cert.expired', target: 'gw-axtls', status: 'failed', requirements: ['BASE-EXPIRED', 'CERT-VALIDATE'],
      expected: { outcome: 'refuses', class: 'expired' },
      actual: {
        verdict: 'REFUSED', class: 'untrusted-cert', because: 'TW_VALIDATE_CERT: Code: 20',
        evidence: { observations: [], emsLog: [`+3ms [ERROR] key dump ${PEM_IN_LOG}`, '+4ms bad bytes \u0001\u0002 <&> "q"', `+5ms passphrase ${FIXTURE_SECRET}`] },
      },
      message: 'expected refusal: expired; got refusal: untrusted-cert',
    }),
    result({
      scenario: 'cert.chain.order', target: 'gw-axtls', status: 'broken', requirements: ['CERT-CHAIN'],
      actual: { verdict: 'BROKEN', because: 'SSH connection to gw-axtls lost', evidence: { observations: [], emsLog: [] } },
      message: 'SSH connection to gw-axtls lost',
      endedBy: 'not-run',
    }),
    result({
      scenario: 'cert.paths.windows', target: 'gw-axtls', status: 'skipped', requirements: ['CERT-PATHS'],
      actual: { verdict: 'UNSUPPORTED', because: 'target gw-axtls lacks capability windows-paths', evidence: { observations: [], emsLog: [] } },
      message: 'target gw-axtls lacks capability windows-paths', durationMs: 0, endedBy: 'not-run',
    }),
    result({
      scenario: 'client.none-presented', target: 'gw-axtls', status: 'failed', requirements: ['CERT-CLIENT'],
      expected: { outcome: 'refuses', class: 'client-cert-required' },
      actual: { verdict: 'HANG', because: 'no decisive evidence within 15000 ms', evidence: { observations: [], emsLog: [] } },
      message: 'expected refusal: client-cert-required; got HANG', endedBy: 'timeout',
    }),
    result({ scenario: 'criteria.all-match', target: 'gw-axtls', status: 'passed', requirements: ['CERT-CRITERIA'] }),
    result({
      scenario: 'secret.app-key-encrypted', target: 'gw-axtls', status: 'failed', requirements: ['SECRET-ENCRYPT'],
      actual: { verdict: 'REFUSED', class: 'auth-rejected', because: 'platform answered AUTH with 0x81', evidence: { observations: [], emsLog: [] } },
      message: 'expected connection; got refusal: auth-rejected',
    }),
    result({ scenario: 'cert.host.mismatch', target: 'simulator', status: 'passed', requirements: ['CERT-HOST'], expected: { outcome: 'refuses', class: 'hostname-mismatch' }, actual: { verdict: 'REFUSED', class: 'hostname-mismatch', because: 'TW_VALIDATE_CERT', evidence: { observations: [], emsLog: [] } } }),
    result({
      scenario: 'broken[3]', family: 'broken', target: 'simulator', status: 'broken', requirements: [],
      actual: { verdict: 'BROKEN', because: 'scenario broken/broken[3]: expect: Required', evidence: { observations: [], emsLog: [] } },
      message: 'scenario broken/broken[3]: expect: Required', durationMs: 0, endedBy: 'not-run',
    }),
  ];
  return {
    format: 1,
    harness: { name: 'ws-ems-conformance', version: '0.1.0', node: 'v20.20.2' },
    run: {
      startedAt: '2026-11-27T02:00:00.000Z',
      finishedAt: '2026-11-27T02:00:09.000Z',
      durationMs: 9000,
      jobs: 4,
      inventory: '/lab/inventory.yaml',
      targets: [
        { id: 'simulator', flavour: 'openssl', capabilities: ['hostname-check', 'windows-paths'], emsVersion: 'simulator' },
        { id: 'gw-axtls', flavour: 'axtls', capabilities: [], emsVersion: '5.4.10' },
      ],
      summary: { total: results.length, passed: 4, failed: 4, skipped: 1, broken: 2 },
    },
    results,
  };
}

/**
 * gw-axtls lists: cert.host.mismatch (known: connects, no host check), client.none-presented as
 * a refusal (it hangs instead: changed), criteria.all-match (now passes: fixed).
 */
export function fixtureExpectations(): Map<string, TargetExpectations> {
  const file = 'targets/expectations/gw-axtls.yaml';
  return new Map<string, TargetExpectations>([
    ['simulator', { file: 'targets/expectations/simulator.yaml', entries: {} }],
    ['gw-axtls', {
      file,
      entries: {
        'cert.host.mismatch': { status: 'failed', verdict: 'CONNECTED', reason: 'C SDK 2.2.1 never checks the host name', link: 'https://tracker.example.com/EMS-1' },
        'client.none-presented': { status: 'failed', verdict: 'REFUSED', reason: 'refuses for the wrong reason', link: 'https://tracker.example.com/EMS-2' },
        'criteria.all-match': { status: 'failed', reason: 'criteria were ignored', link: 'https://tracker.example.com/EMS-3' },
      },
    }],
  ]);
}
