import type { LocalServerExpectation } from '../scenario/local-server-model.ts';
import { partsOf, type Expectation } from '../scenario/model.ts';
import { contradictions, describe, expectationText, type Decision, type Evidence, type Judgement } from '../scenario/verdict.ts';
import { WRONG_CREDENTIALS, type LocalServerEvidence, type ProbeRequest } from './probe.ts';

// A local-server scenario's status from both sides: the platform link's decision (the EMS started
// and connected, or refused to start, or …) and what the harness, as the LSR, saw of its local
// server (probe.ts). An alternative holds when every one of its outcomes does; the message names
// each one that did not, BoGo style.

export function judgeLocalServer(members: readonly Expectation[], d: Decision, ev: Evidence, lsr: LocalServerEvidence | undefined): Judgement {
  if (d.verdict === 'BROKEN') return { status: 'broken', message: d.because };
  if (d.verdict === 'UNSUPPORTED') return { status: 'skipped', message: d.because };
  const bad = contradictions(d, ev);
  if (bad.length) return { status: 'failed', message: `contradictory evidence: ${bad.join('; ')}` };
  const tried = members.map((m) => partsOf(m).map((p) => whyNot(p as LocalServerExpectation, d, ev, lsr)).filter((w): w is string => w !== undefined));
  const met = tried.findIndex((reasons) => reasons.length === 0);
  if (met >= 0) return { status: 'passed', ...(members.length > 1 ? { met } : {}) };
  if (members.length === 1) return { status: 'failed', message: tried[0]!.join('; ') };
  return { status: 'failed', message: `expected one of: ${members.map(expectationText).join(' | ')}; got: ${tried.map((r) => r.join(', ')).join(' | ')}` };
}

/** Why one outcome does not hold, or undefined when it does. */
function whyNot(e: LocalServerExpectation, d: Decision, ev: Evidence, lsr: LocalServerEvidence | undefined): string | undefined {
  if (e.outcome === 'refuses-to-start') {
    if (d.verdict === 'REFUSED' && d.class === e.class) return undefined;
    if (d.verdict === 'CONNECTED') return `unexpected start: expected the EMS to refuse to start (${e.class}); it started and connected to the platform`;
    return `expected the EMS to refuse to start (${e.class}); got ${describe(d, ev)}`;
  }
  // Everything else is asked of a running EMS, whose platform link is up (a real EMS serves its local API while connected).
  if (d.verdict !== 'CONNECTED' || !lsr) return `expected a running EMS that ${expectationText(e)}; got ${describe(d, ev)}`;
  switch (e.outcome) {
    case 'serves-tls':
      return servesTls(e, lsr);
    case 'serves-plain': {
      const r = find(lsr, 'as configured', 'plain');
      if (r?.status !== 200) return `expected plain HTTP to be served; the plain request got ${answer(r)}`;
      if (lsr.tlsOnPlainPort?.completed) return 'a TLS handshake completed on the plain-HTTP port: it serves TLS too';
      return undefined;
    }
    case 'rejects-unauthenticated': {
      const wrong = WRONG_CREDENTIALS.map((c) => lsr.requests.find((r) => r.credentials === c)).filter((r) => r?.status !== 401);
      const right = lsr.requests.find((r) => r.credentials === 'right');
      const reasons = [
        ...wrong.map((r) => `a request with ${r ? credentialsText(r) : 'credentials missing'} got ${answer(r)} (expected 401)`),
        ...(right?.status === 200 ? [] : [`a request with the configured credentials got ${answer(right)} (expected 200)`]),
      ];
      return reasons.length ? reasons.join('; ') : undefined;
    }
    case 'listens-only-on': {
      const listeners = lsr.listeners ?? [];
      const at = listeners.find((l) => l.address === e.address);
      const also = listeners.filter((l) => l.address !== e.address && l.listening).map((l) => l.address);
      const reasons = [
        ...(at?.listening ? [] : [`it does not listen on ${e.address} (${at?.error ?? 'not tried'})`]),
        ...(also.length ? [`it also listens on ${also.join(', ')}`] : []),
      ];
      return reasons.length ? `expected it to listen only on ${e.address}: ${reasons.join('; ')}` : undefined;
    }
    case 'warns': {
      const logged = lsr.warnings.logged.map((w) => w.warning);
      const missing = e.warnings.filter((w) => !logged.includes(w));
      const extra = lsr.warnings.logged.filter((w) => !e.warnings.includes(w.warning));
      const reasons = [
        ...(missing.length ? [`no warning logged for ${missing.join(', ')}${unmatched(lsr)}`] : []),
        ...extra.map((w) => `a warning about ${w.warning} although that setting is secure here: "${w.line}"`),
      ];
      return reasons.length ? reasons.join('; ') : undefined;
    }
  }
}

function servesTls(e: Extract<LocalServerExpectation, { outcome: 'serves-tls' }>, lsr: LocalServerEvidence): string | undefined {
  const hs = lsr.handshakes.find((h) => h.trust === e.trust);
  if (!hs?.ok) return `expected TLS; the local server completed no TLS handshake (${hs && !hs.ok ? hs.error : 'not tried'})`;
  if (hs.chainError) return `the harness could not read the chain the server sent: ${hs.chainError}`;
  const served = hs.chain.map((c) => c.name ?? `${c.subject} (not in the catalogue)`);
  const inOrder = served.length === e.chain.length && served.every((n, i) => n === e.chain[i]);
  const refused = [
    ...(hs.authorized ? [] : [`the LSR client trusting ${e.trust} refused it (${hs.authorizationError ?? 'not verified'})`]),
    ...(hs.identityError ? [`it does not name ${hs.identity} (${hs.identityError})`] : []),
  ];
  if (!inOrder || refused.length) {
    return `the EMS served the wrong chain: served ${served.join(', ') || '(nothing)'}; expected ${e.chain.join(', ')}, in that order${refused.length ? `; ${refused.join('; ')}` : ''}`;
  }
  if (e.protocolIn && !e.protocolIn.includes(hs.protocol)) return `served ${hs.protocol}, expected one of ${e.protocolIn.join(', ')}`;
  const r = find(lsr, 'as configured', 'tls');
  if (r?.status !== 200) return `the request over TLS got ${answer(r)} (expected 200)`;
  const plain = lsr.plainOnTlsPort;
  // A TLS server answers a plain request with an alert or a close; some answer 400 ("use https"). Anything else serves plain HTTP.
  if (plain?.answered && plain.status !== 400) return `a plain-HTTP request on its TLS port was answered with ${plain.status}: it does not serve TLS only`;
  return undefined;
}

function find(lsr: LocalServerEvidence, credentials: ProbeRequest['credentials'], over: ProbeRequest['over']): ProbeRequest | undefined {
  return lsr.requests.find((r) => r.credentials === credentials && r.over === over);
}

function answer(r: ProbeRequest | undefined): string {
  if (!r) return 'no request';
  return r.status !== undefined ? String(r.status) : `no answer (${r.error})`;
}

function credentialsText(r: ProbeRequest): string {
  return r.credentials === 'none' ? 'no credentials' : `${/^[aeiou]/.test(r.credentials) ? 'an' : 'a'} ${r.credentials}`;
}

/** For a missing warning: the WARN lines no entry matched, and the entry that would name one. */
function unmatched(lsr: LocalServerEvidence): string {
  const lines = lsr.warnings.otherWarnLines;
  if (!lines.length) return ' (no WARN line the warning map does not know either)';
  return ` (WARN lines no warningMap entry matched: ${lines.slice(0, 3).map((l) => `"${l}"`).join(', ')}; if one is it, add to the target's inventory entry: ` +
    `warningMap: [{ pattern: '<part of the line>', warning: <name> }] (docs/target-profiles.md "Warning maps"))`;
}
