import type { Divergence } from '../harness/report/divergences.ts';
import { evaluate } from '../harness/report/gates.ts';
import type { ReportedResult, ResultsFile } from '../harness/report/results.ts';

// A small run with one result of each outcome on two targets (two that pass on t1), small enough that a writer's whole
// output can be read and checked by eye, and asserted byte for byte (the writers' contract).

const KNOWN: Divergence = { state: 'known', listed: { status: 'failed', reason: 'no host check\n(see EMS-1)', link: 'https://t.example.com/1' }, file: 'targets/expectations/t2.yaml', note: 'known divergence: no host check\n(see EMS-1) (https://t.example.com/1)' };
const FIXED: Divergence = { state: 'fixed', listed: { status: 'failed', reason: 'was refused', link: 'https://t.example.com/3' }, file: 'targets/expectations/t1.yaml', note: 'fixed — remove from list: client.ok now passes on t1; remove it from targets/expectations/t1.yaml' };
const CHANGED: Divergence = { state: 'changed', listed: { status: 'failed', verdict: 'HANG', reason: 'hangs', link: 'https://t.example.com/2' }, file: 'targets/expectations/t1.yaml', note: 'listed in targets/expectations/t1.yaml as failed (HANG), but got failed (REFUSED: untrusted-cert): a different deviation from the known one (https://t.example.com/2)' };

const r = (over: Partial<ReportedResult> & Pick<ReportedResult, 'scenario' | 'target' | 'status' | 'actual'>): ReportedResult => ({
  family: 'cert', title: `Title of ${over.scenario}`, requirements: ['CERT-VALIDATE'], expected: { outcome: 'connects' }, durationMs: 250, endedBy: 'evidence', ...over,
});

export function smallRun(): ResultsFile {
  const results: ReportedResult[] = [
    r({
      scenario: 'baseline.tls10-only', family: 'baseline', target: 't1', status: 'passed', requirements: ['BASE-PROTOCOL'], durationMs: 1500,
      expected: { outcome: 'connects', protocolIn: ['TLSv1'], weak: 'completed a TLS 1.0 handshake' },
      actual: { verdict: 'CONNECTED', because: 'platform accepted AUTH', evidence: { observations: [], emsLog: ['+1ms connected'] } },
      weak: { what: 'completed a TLS 1.0 handshake', evidence: 'connected with TLSv1 AES128-SHA' },
    }),
    r({
      scenario: 'cert.expired', target: 't1', status: 'failed', requirements: [],
      expected: { outcome: 'refuses', class: 'expired' },
      actual: { verdict: 'REFUSED', class: 'untrusted-cert', because: 'Code: 20, Reason = "x" <y>', evidence: { observations: [], emsLog: [] } },
      message: 'expected refusal: expired; got refusal: untrusted-cert\nsecond line',
      divergence: CHANGED,
    }),
    r({
      scenario: 'client.ok', family: 'client-certificates', target: 't1', status: 'passed', requirements: ['CERT-CLIENT', 'CERT-KEYFORMAT'], divergence: FIXED,
      expected: { outcome: 'refuses', class: 'key-load-error' }, expectedAnyOf: [{ outcome: 'refuses', class: 'key-load-error' }, { outcome: 'connects' }], met: 1,
      actual: {
        verdict: 'CONNECTED', because: 'platform accepted AUTH; EMS logged "AUTH Message 1 succeeded. Code:64"',
        evidence: {
          observations: [{ kind: 'tcp-accepted', at: 1, remote: '127.0.0.1:5000' }, { kind: 'handshake-ok', at: 2, protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' }],
          emsLog: ['+5ms AUTH Message 1 succeeded. Code:64'], exit: { code: null, signal: 'SIGTERM' }, restConnected: true, config: { ws_servers: [{ host: 'localhost', port: 28001 }] },
        },
      },
      verdictLatencyMs: 0.12,
    }),
    r({
      scenario: 'cert.valid', target: 't1', status: 'passed',
      actual: { verdict: 'CONNECTED', because: 'platform accepted AUTH', evidence: { observations: [], emsLog: ['+1ms connected'] } },
    }),
    r({ scenario: 'cert.chain', target: 't2', status: 'broken', actual: { verdict: 'BROKEN', because: 'ssh down', evidence: { observations: [], emsLog: ['+2ms lost'] } }, message: 'ssh down', durationMs: 0, endedBy: 'not-run' }),
    r({ scenario: 'cert.paths', target: 't2', status: 'skipped', actual: { verdict: 'UNSUPPORTED', because: 'target t2 lacks capability windows-paths', evidence: { observations: [], emsLog: [] } }, durationMs: 0, endedBy: 'not-run' }),
    r({
      scenario: 'cert.host', target: 't2', status: 'failed', expected: { outcome: 'refuses', class: 'hostname-mismatch' },
      actual: { verdict: 'CONNECTED', because: 'platform accepted AUTH', evidence: { observations: [], emsLog: ['+3ms connected'] } },
      message: 'unexpected success: expected refusal: hostname-mismatch', divergence: KNOWN,
    }),
  ];
  return {
    format: 1,
    harness: { name: 'ws-ems-conformance', version: '0.1.0', node: 'v20.20.2' },
    run: {
      startedAt: '2026-11-27T02:00:00.000Z', finishedAt: '2026-11-27T02:00:03.000Z', durationMs: 3000, jobs: 2, inventory: 'inv.yaml',
      targets: [{ id: 't1', flavour: 'openssl', capabilities: ['tls13', 'fips'], emsVersion: '5.4 "beta"', fipsPolicy: 'sp800-131a-rev2' }, { id: 't2', flavour: 'axtls', capabilities: [] }],
      summary: { total: 7, passed: 3, failed: 2, skipped: 1, broken: 1 },
    },
    results,
  };
}

/** The same run as the report step leaves it: gates evaluated, triage made. */
export function smallRunReported(): ResultsFile {
  const doc = smallRun();
  doc.run.outcome = evaluate(doc.results);
  doc.run.triage = {
    unmatched: [
      { shape: 'vendor: gave up <n> | "…"', pattern: 'vendor: gave up \\d+', count: 3, results: 2, targets: ['t1', 't2'], examples: [{ target: 't1', scenario: 'cert.expired' }, { target: 't2', scenario: 'cert.chain' }], line: '[ERROR] vendor: gave up 3' },
      { shape: 'vendor: no <x>', pattern: 'vendor: no \\w+', count: 1, results: 1, targets: ['t1'], examples: [{ target: 't1', scenario: 'cert.expired' }], line: '[ERROR] vendor: no x' },
    ],
    unusedErrorMap: [{ target: 't2', pattern: 'never <seen>', class: 'untrusted-cert', origin: 'inv.yaml: targets[1].errorMap[0]' }, { target: 't2', pattern: 'also unseen', class: 'expired' }],
  };
  return doc;
}
