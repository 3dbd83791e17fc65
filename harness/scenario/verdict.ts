import type { Observation } from '../endpoints/observations.ts';
import { attributeLine } from '../ems/error-map.ts';
import type { EmsExit, EmsLine, ErrorMapEntry } from './target.ts';
import type { Expectation } from './model.ts';
import type { FailureClass } from './requirements.ts';

// From evidence on both sides to a verdict, and from verdict + expectation to a status.
// Pure functions: the run loop feeds them events; the tests feed them fakes.

export type Verdict = 'CONNECTED' | 'REFUSED' | 'HANG' | 'UNSUPPORTED' | 'BROKEN';
export type Status = 'passed' | 'failed' | 'skipped' | 'broken';

export interface Evidence {
  observations: Observation[];
  lines: EmsLine[];
  exit?: EmsExit;
}

export interface Decision {
  verdict: Verdict;
  class?: FailureClass;
  /** The evidence that decided, in words. */
  because: string;
  /** When the deciding evidence arrived (performance.now()). */
  evidenceAt?: number;
}

const AUTH_OK = /AUTH Message \d+ succeeded/;

/** Platform-side attribution of a failed handshake, from the text the endpoint's TLS stack gave. */
const ENDPOINT_MAP: Array<[RegExp, FailureClass]> = [
  [/no shared cipher|no suitable signature|no ciphers available|no cipher suites in common/i, 'no-shared-cipher'], // OpenSSL, JSSE
  [/peer did not return a certificate|certificate required/i, 'client-cert-required'],
  [/client certificate rejected|certificate verify failed|unknown ca|unable to get (local )?issuer|self.signed certificate|certificate (has )?expired/i, 'client-cert-rejected'],
  [/unsupported protocol|wrong version number|version too low|protocol version|inappropriate fallback/i, 'protocol-version'],
  [/dh key too small|insufficient security/i, 'dh-too-small'],
];

export function attributeEndpointError(error: string): FailureClass | undefined {
  return ENDPOINT_MAP.find(([re]) => re.test(error))?.[1];
}

/**
 * The verdict as soon as the evidence is decisive, else undefined (wait for more).
 * `final` means no more evidence will come: decide with what there is.
 */
export function decide(ev: Evidence, errorMap: ErrorMapEntry[], final = false): Decision | undefined {
  const auth = ev.observations.find((o) => o.kind === 'auth' && o.ok);
  const emsAuth = ev.lines.find((l) => AUTH_OK.test(l.text));
  if (auth && emsAuth) {
    return { verdict: 'CONNECTED', because: `platform accepted AUTH; EMS logged "${emsAuth.text.trim()}"`, evidenceAt: Math.max(auth.at, emsAuth.at) };
  }

  for (const line of ev.lines) {
    const cls = attributeLine(line.text, errorMap);
    if (cls === undefined) continue;
    if (cls === 'infrastructure') return { verdict: 'BROKEN', because: line.text.trim(), evidenceAt: line.at };
    if (cls !== 'handshake') return { verdict: 'REFUSED', class: cls, because: line.text.trim(), evidenceAt: line.at };
    const failed = ev.observations.find((o): o is Extract<Observation, { kind: 'handshake-failed' }> => o.kind === 'handshake-failed');
    const fromEndpoint = failed && attributeEndpointError(failed.error);
    if (failed && fromEndpoint) {
      return {
        verdict: 'REFUSED',
        class: fromEndpoint,
        because: `${line.text.trim()} / platform saw: ${failed.error}`,
        evidenceAt: Math.max(line.at, failed.at),
      };
    }
    if (final || ev.exit) {
      return { verdict: 'REFUSED', because: `unattributed handshake failure: ${line.text.trim()}${failed ? ` / platform saw: ${failed.error}` : ''}`, evidenceAt: line.at };
    }
    return undefined;
  }

  if (ev.exit) {
    const tail = ev.lines.slice(-3).map((l) => l.text.trim()).join(' | ');
    return { verdict: 'REFUSED', because: `EMS exited (code ${ev.exit.code}, signal ${ev.exit.signal}) without a recognised reason: ${tail || 'no output'}`, evidenceAt: ev.exit.at };
  }
  return undefined;
}

const START_UP: FailureClass[] = ['key-load-error', 'config-error', 'fips-unavailable'];
const IN_HANDSHAKE: FailureClass[] = ['no-shared-cipher', 'protocol-version', 'dh-too-small', 'client-cert-required', 'client-cert-rejected'];
const AFTER_HANDSHAKE: FailureClass[] = ['untrusted-cert', 'self-signed', 'expired', 'hostname-mismatch', 'criteria-mismatch'];

/** Where the two sides' stories disagree: a verdict nobody can trust. */
export function contradictions(d: Decision, ev: Evidence): string[] {
  const has = (k: Observation['kind']) => ev.observations.some((o) => o.kind === k);
  const out: string[] = [];
  if (d.verdict === 'REFUSED' && ev.observations.some((o) => o.kind === 'auth' && o.ok)) {
    out.push('the platform saw the EMS authenticate, yet the EMS reported a refusal');
  }
  if (d.class && START_UP.includes(d.class) && has('tcp-accepted')) {
    out.push(`the EMS reported ${d.class} at start-up, yet the platform saw a TCP connection`);
  }
  if (d.class && IN_HANDSHAKE.includes(d.class) && has('handshake-ok')) {
    out.push(`the EMS reported ${d.class}, yet the platform completed the handshake`);
  }
  if (d.class && AFTER_HANDSHAKE.includes(d.class) && !has('tcp-accepted')) {
    out.push(`the EMS reported ${d.class}, yet the platform never saw it connect`);
  }
  return out;
}

export interface Judgement {
  status: Status;
  message?: string;
}

/** Status of a decided scenario against its expectation, BoGo style ("expected …; got …"). */
export function judge(expect: Expectation, d: Decision, ev: Evidence): Judgement {
  if (d.verdict === 'BROKEN') return { status: 'broken', message: d.because };
  if (d.verdict === 'UNSUPPORTED') return { status: 'skipped', message: d.because };
  const bad = contradictions(d, ev);
  if (bad.length) return { status: 'failed', message: `contradictory evidence: ${bad.join('; ')}` };
  const got = describe(d);
  if (expect.outcome === 'refuses') {
    if (d.verdict === 'REFUSED' && d.class === expect.class) return { status: 'passed' };
    if (d.verdict === 'CONNECTED') return { status: 'failed', message: `unexpected success: expected refusal: ${expect.class}` };
    return { status: 'failed', message: `expected refusal: ${expect.class}; got ${got}` };
  }
  if (d.verdict !== 'CONNECTED') return { status: 'failed', message: `expected connection; got ${got}` };
  const hs = ev.observations.find((o): o is Extract<Observation, { kind: 'handshake-ok' }> => o.kind === 'handshake-ok');
  if (expect.cipherIn && !(hs && expect.cipherIn.includes(hs.cipher))) {
    return { status: 'failed', message: `connected with cipher ${hs?.cipher ?? '(none observed)'}, expected one of ${expect.cipherIn.join(', ')}` };
  }
  if (expect.protocolIn && !(hs && expect.protocolIn.includes(hs.protocol))) {
    return { status: 'failed', message: `connected with ${hs?.protocol ?? '(none observed)'}, expected one of ${expect.protocolIn.join(', ')}` };
  }
  return { status: 'passed' };
}

function describe(d: Decision): string {
  if (d.verdict === 'REFUSED') return `refusal: ${d.class ?? 'unattributed'} (${d.because})`;
  return `${d.verdict} (${d.because})`;
}
