import type { Observation } from '../endpoints/observations.ts';
import { matchLine } from '../ems/error-map.ts';
import { isErrorLine, patternFor } from '../ems/log-shape.ts';
import type { EmsExit, EmsLine, ErrorMapEntry } from './target.ts';
import { localServerText } from './local-server-model.ts';
import { isPlatformExpectation, type Expectation, type PlatformExpectation } from './model.ts';
import type { FailureClass } from './requirements.ts';

// From evidence on both sides to a verdict, and from verdict + expectation to a status.
// Pure functions: the run loop feeds them events; the tests feed them fakes and recordings.
//
// The evidence rules (README "What a verdict is"): a verdict never waits once both sides have
// spoken; HANG is for an EMS that says nothing decisive. A line waits only when it blames the
// handshake or the connection and the platform has not said anything yet (the run loop's grace
// timer then decides it unattributed).

export type Verdict = 'CONNECTED' | 'REFUSED' | 'HANG' | 'UNSUPPORTED' | 'BROKEN';
export type Status = 'passed' | 'failed' | 'skipped' | 'broken';

/** Where the EMS was told the platform is: what a diagnosis names when it cannot get there. */
export interface PlatformRoute {
  target: string;
  /** ws_servers as rendered into config.json. */
  servers: Array<{ host: string; port: number }>;
  /** Where the endpoint listens. */
  bindAddress: string;
  port: number;
  /** How the EMS reaches it (Target.platformRoute); unset: the EMS runs on this host. */
  via?: string;
}

export interface Evidence {
  observations: Observation[];
  lines: EmsLine[];
  exit?: EmsExit;
  route?: PlatformRoute;
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

type Failed = Extract<Observation, { kind: 'handshake-failed' }>;

/**
 * Each line's error-map entry, looked up once per line and map: decide() runs at every event over
 * all the lines so far, and a lookup tries every pattern of the map: without this, n lines cost
 * n²/2 lookups. Kept with the line, gone with it.
 */
const entries = new WeakMap<EmsLine, { map: readonly ErrorMapEntry[]; entry: ErrorMapEntry | undefined }>();

function entryOf(line: EmsLine, errorMap: readonly ErrorMapEntry[]): ErrorMapEntry | undefined {
  const known = entries.get(line);
  if (known?.map === errorMap) return known.entry;
  const entry = matchLine(line.text, errorMap);
  entries.set(line, { map: errorMap, entry });
  return entry;
}

/**
 * The verdict as soon as the evidence is decisive, else undefined (wait for more).
 * `final` means no more evidence will come (the grace for the platform's side is over).
 */
export function decide(ev: Evidence, errorMap: readonly ErrorMapEntry[], final = false): Decision | undefined {
  const auth = ev.observations.find((o) => o.kind === 'auth' && o.ok);
  const emsAuth = ev.lines.find((l) => AUTH_OK.test(l.text));
  if (auth && emsAuth) {
    return { verdict: 'CONNECTED', because: `platform accepted AUTH; EMS logged "${emsAuth.text.trim()}"`, evidenceAt: Math.max(auth.at, emsAuth.at) };
  }

  const tcp = ev.observations.find((o) => o.kind === 'tcp-accepted');
  const failed = ev.observations.find((o): o is Failed => o.kind === 'handshake-failed');
  const fromPlatform = failed && attributeEndpointError(failed.error);
  /** What the platform said about the connection, if anything: its handshake failure, the upgrade it refused, the close it saw. */
  const platformSaid = platformStory(ev.observations);
  const byPlatform = (line: EmsLine): Decision => ({
    verdict: 'REFUSED',
    class: fromPlatform!,
    because: `platform saw: ${failed!.error} / EMS: ${line.text.trim()}`,
    // Latency counts from the EMS's decisive line (including any wait for the platform's side).
    evidenceAt: line.at,
  });
  const unattributed = (line: EmsLine, hint = false): Decision => ({
    verdict: 'REFUSED',
    because: `unattributed refusal: "${line.text.trim()}"${platformSaid ? ` / platform saw: ${platformSaid.text}` : ''}${hint ? howToAttribute(line.text) : ''}`,
    evidenceAt: line.at,
  });

  /** A line that blames the handshake or the connection, waiting for the platform's side. */
  let pending: EmsLine | undefined;
  for (const line of ev.lines) {
    const cls = entryOf(line, errorMap)?.class;
    if (cls === undefined || cls === 'context') {
      // The platform's handshake failure, then any EMS error line: the platform's side decides.
      if (fromPlatform && tcp && line.at >= tcp.at && isErrorLine(line.text)) return byPlatform(line);
      continue;
    }
    switch (cls) {
      case 'infrastructure':
        return { verdict: 'BROKEN', because: line.text.trim(), evidenceAt: line.at };
      case 'socket':
        // No TCP connection while the endpoint listens: the EMS was given an address it cannot reach.
        if (!tcp) return { verdict: 'BROKEN', because: unreachable(line.text, ev.route), evidenceAt: line.at };
        continue;
      case 'handshake':
      case 'connect-failed':
        if (fromPlatform) return byPlatform(line);
        if (platformSaid) return unattributed(line);
        pending ??= line;
        continue;
      case 'refused':
        if (fromPlatform) return byPlatform(line);
        return pending ? unattributed(pending) : unattributed(line, true);
      default:
        return { verdict: 'REFUSED', class: cls, because: line.text.trim(), evidenceAt: line.at };
    }
  }
  if (pending && (final || ev.exit)) return unattributed(pending);

  if (ev.exit) {
    const tail = ev.lines.slice(-3).map((l) => l.text.trim()).join(' | ');
    const exited = `EMS exited (code ${ev.exit.code}, signal ${ev.exit.signal})`;
    if (fromPlatform) return { verdict: 'REFUSED', class: fromPlatform, because: `platform saw: ${failed!.error} / ${exited}`, evidenceAt: Math.max(ev.exit.at, failed!.at) };
    return { verdict: 'REFUSED', because: `${exited} without a recognised reason: ${tail || 'no output'}`, evidenceAt: ev.exit.at };
  }
  return undefined;
}

/** The platform's side of a failed connection: a handshake failure, a refused upgrade, a close before AUTH. */
function platformStory(observations: readonly Observation[]): { text: string; at: number } | undefined {
  for (const o of observations) {
    if (o.kind === 'handshake-failed') return { text: o.error, at: o.at };
    if (o.kind === 'upgrade-rejected') return { text: `WebSocket upgrade to ${o.path} refused with ${o.status}`, at: o.at };
    if (o.kind === 'closed' && o.phase !== 'authenticated') return { text: `connection closed in the ${o.phase} phase`, at: o.at };
  }
  return undefined;
}

/** For a refusal no entry attributes: the inventory entry that would, from the line's shape. */
function howToAttribute(line: string): string {
  return `. No error-map entry gives this line a class; if it means one, add to the target's inventory entry: ` +
    `errorMap: [{ pattern: '${patternFor(line).replace(/'/g, "''")}', class: <failure class> }] (docs/target-profiles.md "Error maps")`;
}

/** errno values the C SDK prints after "Err = " (Linux, and Winsock on Windows gateways). */
const ERRNO: Record<string, string> = {
  111: 'ECONNREFUSED: nothing listens there', 113: 'EHOSTUNREACH: no route to the host', 101: 'ENETUNREACH: network unreachable',
  110: 'ETIMEDOUT: no answer', 10061: 'WSAECONNREFUSED: nothing listens there', 10065: 'WSAEHOSTUNREACH: no route to the host',
  10051: 'WSAENETUNREACH: network unreachable', 10060: 'WSAETIMEDOUT: no answer',
};
/** The C SDK 2.2.1 holds the port in an int16_t: a port above this is never reached. */
const INT16_MAX = 32767;

/** Why the EMS never reached the endpoint, naming what it was given and what to check. */
export function unreachable(line: string, route: PlatformRoute | undefined): string {
  const errno = /Err(?:or)? ?=? ?(\d+)/.exec(line)?.[1];
  const said = `"${line.trim()}"${errno && ERRNO[errno] ? ` (${ERRNO[errno]})` : ''}`;
  if (!route) return `the EMS could not open a TCP connection to the platform and the endpoint saw none: ${said}`;
  const given = route.servers.map((s) => `${s.host}:${s.port}`).join(', ') || '(none)';
  const high = route.servers.filter((s) => s.port > INT16_MAX).map((s) => s.port);
  return [
    `the EMS could not open a TCP connection to the platform and the endpoint saw none: ${said}.`,
    `The EMS was given ws_servers ${given}; the endpoint listens on ${route.bindAddress}:${route.port}`,
    route.via ? `, reached through ${route.via}` : ` on this host (target ${route.target})`,
    `. Check that ${route.servers[0]?.host ?? 'the host'} resolves, where the EMS runs, to ${route.bindAddress} and that nothing blocks port ${route.port}`,
    high.length ? `; port ${high.join(', ')} is above ${INT16_MAX}: an EMS that holds the port in an int16_t (the C SDK 2.2.1) never reaches it` : '',
    '.',
  ].join('');
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
  if (d.class && IN_HANDSHAKE.includes(d.class) && has('handshake-ok') && !refusedAfterTls13Handshake(d.class, ev.observations)) {
    out.push(`the EMS reported ${d.class}, yet the platform completed the handshake`);
  }
  if (d.class && AFTER_HANDSHAKE.includes(d.class) && !has('tcp-accepted')) {
    out.push(`the EMS reported ${d.class}, yet the platform never saw it connect`);
  }
  return out;
}

/**
 * TLS 1.3 puts the client's certificate after the server's Finished: a platform may report the
 * handshake done and only then refuse the certificate. That is no contradiction.
 */
function refusedAfterTls13Handshake(cls: FailureClass, observations: readonly Observation[]): boolean {
  if (cls !== 'client-cert-required' && cls !== 'client-cert-rejected') return false;
  const ok = observations.find((o) => o.kind === 'handshake-ok');
  return ok?.kind === 'handshake-ok' && ok.protocol === 'TLSv1.3' && observations.some((o) => o.kind === 'handshake-failed' && o.at >= ok.at);
}

export interface Judgement {
  status: Status;
  message?: string;
  /** For an expectation set: which member held (index). */
  met?: number;
  /** The held member's `weak` reason: the target accepted weak crypto (status stays passed; reported as weak). */
  weak?: string;
}

/**
 * Status of a decided scenario against its expectation (one member, or the members of a set:
 * any one holds), BoGo style ("expected …; got …").
 */
export function judge(expect: Expectation | readonly Expectation[], d: Decision, ev: Evidence): Judgement {
  const members = Array.isArray(expect) ? expect : [expect as Expectation];
  if (d.verdict === 'BROKEN') return { status: 'broken', message: d.because };
  if (d.verdict === 'UNSUPPORTED') return { status: 'skipped', message: d.because };
  const bad = contradictions(d, ev);
  if (bad.length) return { status: 'failed', message: `contradictory evidence: ${bad.join('; ')}` };
  const tried = members.map((m) => judgeOne(m, d, ev));
  const met = tried.findIndex((j) => j === undefined);
  if (met >= 0) {
    const weak = members[met]!.outcome === 'connects' ? (members[met] as Extract<PlatformExpectation, { outcome: 'connects' }>).weak : undefined;
    return { status: 'passed', ...(members.length > 1 ? { met } : {}), ...(weak ? { weak } : {}) };
  }
  if (members.length === 1) return { status: 'failed', message: tried[0]! };
  const refusals = members.filter((m): m is Extract<PlatformExpectation, { outcome: 'refuses' }> => m.outcome === 'refuses');
  if (d.verdict === 'CONNECTED' && refusals.length === members.length) {
    return { status: 'failed', message: `unexpected success: expected refusal: ${refusals.map((m) => m.class).join(' or ')}` };
  }
  return { status: 'failed', message: `expected one of: ${members.map(expectationText).join(' | ')}; got ${describe(d, ev)}` };
}

/** Why one expectation does not hold, or undefined when it does. */
function judgeOne(expect: Expectation, d: Decision, ev: Evidence): string | undefined {
  if (!isPlatformExpectation(expect)) return `${expectationText(expect)} is no outcome of the platform link`;
  if (expect.outcome === 'refuses') {
    if (d.verdict === 'REFUSED' && d.class === expect.class) return undefined;
    if (d.verdict === 'CONNECTED') return `unexpected success: expected refusal: ${expect.class}`;
    return `expected refusal: ${expect.class}; got ${describe(d, ev)}`;
  }
  if (d.verdict !== 'CONNECTED') return `expected connection; got ${describe(d, ev)}`;
  const hs = handshakeOf(ev);
  if (expect.cipherIn && !(hs && expect.cipherIn.includes(hs.cipher))) {
    return `connected with cipher ${hs?.cipher ?? '(none observed)'}, expected one of ${expect.cipherIn.join(', ')}`;
  }
  if (expect.protocolIn && !(hs && expect.protocolIn.includes(hs.protocol))) {
    return `connected with ${hs?.protocol ?? '(none observed)'}, expected one of ${expect.protocolIn.join(', ')}`;
  }
  return undefined;
}

/** One expectation in words: `refusal: expired`, `connection with AES128-SHA256`, `serves plain HTTP`. */
export function expectationText(e: Expectation): string {
  if (e.outcome === 'all-of') return `all of: ${e.of.map(expectationText).join(' & ')}`;
  if (!isPlatformExpectation(e)) return localServerText(e);
  if (e.outcome === 'refuses') return `refusal: ${e.class}`;
  const suites = e.cipherIn && (e.cipherIn.length > 3 ? `one of ${e.cipherIn.length} listed suites` : e.cipherIn.join(' / '));
  const how = [suites && `with ${suites}`, e.protocolIn && `over ${e.protocolIn.join(' / ')}`].filter(Boolean).join(' ');
  return `connection${how ? ` ${how}` : ''}${e.weak ? ' (weak)' : ''}`;
}

function handshakeOf(ev: Evidence): Extract<Observation, { kind: 'handshake-ok' }> | undefined {
  return ev.observations.find((o): o is Extract<Observation, { kind: 'handshake-ok' }> => o.kind === 'handshake-ok');
}

export function describe(d: Decision, ev: Evidence): string {
  if (d.verdict === 'REFUSED') return `refusal: ${d.class ?? 'unattributed'} (${d.because})`;
  const hs = d.verdict === 'CONNECTED' ? handshakeOf(ev) : undefined;
  return `${d.verdict}${hs ? ` with ${hs.cipher} over ${hs.protocol}` : ''} (${d.because})`;
}
