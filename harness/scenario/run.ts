import { randomBytes } from 'node:crypto';
import { startEndpoint, type Endpoint } from '../endpoints/start.ts';
import type { Observation } from '../endpoints/observations.ts';
import { renderConfig } from '../ems/render.ts';
import { attributeLine } from '../ems/error-map.ts';
import type { Catalogue } from '../pki/catalogue.ts';
import type { Redactor } from '../report/redact.ts';
import type { EmsProcess, EmsExit, Target, TargetSession } from './target.ts';
import { expectationFor, type Expectation, type Scenario } from './model.ts';
import type { FailureClass, RequirementId } from './requirements.ts';
import { decide, judge, type Decision, type Evidence, type Status, type Verdict } from './verdict.ts';

// One scenario on one target: endpoint up, config rendered, EMS started, verdict at the first
// decisive evidence, everything stopped and removed again whatever happened.

export interface ScenarioResult {
  scenario: string;
  family: string;
  title: string;
  requirements: RequirementId[];
  target: string;
  expected: Expectation;
  actual: {
    verdict: Verdict;
    class?: FailureClass;
    because: string;
    evidence: {
      observations: Observation[];
      emsLog: string[];
      exit?: { code: number | null; signal: string | null };
      restConnected?: boolean;
      config?: Record<string, unknown>;
    };
  };
  status: Status;
  message?: string;
  /** When the scenario began on its target (ISO 8601); with durationMs, its real place in the run's timeline. */
  startedAt?: string;
  durationMs: number;
  /** From the first decisive evidence to the verdict; absent when no evidence decided. */
  verdictLatencyMs?: number;
  endedBy: 'evidence' | 'timeout' | 'not-run';
}

export interface RunContext {
  catalogue: Catalogue;
  redactor: Redactor;
  /** Called once the verdict is taken, before the EMS is stopped and the scenario cleaned up. */
  decided?: () => void;
}

/**
 * When the EMS blames the handshake but the platform's side is never heard: then the refusal is
 * decided unattributed by this timer, and the result says it ended by a timeout.
 */
const HANDSHAKE_GRACE_MS = 1000;
/**
 * The EMS's REST state may trail its log by a message or two (the simulator and the C SDK bind
 * after AUTH, then log): asked again at each new log line, else every `everyMs`, for `forMs`.
 */
const REST_RECHECK = { everyMs: 25, forMs: 1000 };
const LOG_EXCERPT = 200;

export async function runScenario(family: string, s: Scenario, target: Target, ctx: RunContext): Promise<ScenarioResult> {
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  const expected = expectationFor(s, target.profile.flavour, target.profile.capabilities);
  const base = { scenario: s.id, family, title: s.title, requirements: s.requirements, target: target.id, expected };
  const missing = s.needs.filter((c) => !target.profile.capabilities.includes(c));
  if (missing.length) {
    const because = `target ${target.id} lacks capability ${missing.join(', ')}`;
    return { ...base, actual: { verdict: 'UNSUPPORTED', because, evidence: { observations: [], emsLog: [] } }, status: 'skipped', message: because, startedAt, durationMs: 0, endedBy: 'not-run' };
  }

  const appKey = randomBytes(24).toString('base64url');
  ctx.redactor.add(appKey);
  let endpoint: Endpoint | undefined;
  let session: TargetSession | undefined;
  let ems: EmsProcess | undefined;
  let config: Record<string, unknown> | undefined;
  const ev: Evidence = { observations: [], lines: [] };
  let outcome: { decision: Decision; decidedAt: number; endedBy: 'evidence' | 'timeout' };
  let restConnected: boolean | undefined;
  try {
    endpoint = await startEndpoint(s.endpoint, { catalogue: ctx.catalogue, appKey, bindAddress: target.bindAddress });
    ev.observations = endpoint.observations;
    session = await target.openSession(s.id);
    const rendered = await renderConfig({ scenario: s, target, session, catalogue: ctx.catalogue, endpointPort: endpoint.port, appKey, redactor: ctx.redactor });
    config = rendered.config;
    ems = await session.start(rendered.json);
    outcome = await awaitVerdict(endpoint, ems, ev, target, s.hangMs);
    if (outcome.decision.verdict === 'CONNECTED') restConnected = await checkConnected(ems);
  } catch (e) {
    outcome = { decision: { verdict: 'BROKEN', because: (e as Error).message }, decidedAt: performance.now(), endedBy: 'evidence' };
  } finally {
    ctx.decided?.();
    await Promise.allSettled([ems?.stop()]);
    await Promise.allSettled([session?.close(), endpoint?.close()]);
  }

  const { decision, decidedAt, endedBy } = outcome;
  let judgement = judge(expected, decision, ev);
  if (judgement.status === 'passed' && restConnected === false) {
    judgement = { status: 'failed', message: 'the platform and the EMS log say connected, but the EMS REST API says isConnected=false' };
  }
  const result: ScenarioResult = {
    ...base,
    actual: {
      verdict: decision.verdict,
      ...(decision.class ? { class: decision.class } : {}),
      because: decision.because,
      evidence: {
        observations: ev.observations,
        emsLog: ev.lines.slice(-LOG_EXCERPT).map((l) => `+${Math.round(l.at - t0)}ms ${l.text}`),
        ...(ev.exit ? { exit: { code: ev.exit.code, signal: ev.exit.signal } } : {}),
        ...(restConnected !== undefined ? { restConnected } : {}),
        ...(config ? { config } : {}),
      },
    },
    status: judgement.status,
    ...(judgement.message ? { message: judgement.message } : {}),
    startedAt,
    durationMs: Math.round(performance.now() - t0),
    ...(decision.evidenceAt !== undefined ? { verdictLatencyMs: round2(decidedAt - decision.evidenceAt) } : {}),
    endedBy,
  };
  return ctx.redactor.value(result);
}

/** Resolves at the first decisive evidence; the hang timer is the only timeout that decides. */
function awaitVerdict(endpoint: Endpoint, ems: EmsProcess, ev: Evidence, target: Target, hangMs: number) {
  const errorMap = target.profile.errorMap;
  return new Promise<{ decision: Decision; decidedAt: number; endedBy: 'evidence' | 'timeout' }>((resolve) => {
    const timers: NodeJS.Timeout[] = [];
    let done = false;
    const finish = (decision: Decision, endedBy: 'evidence' | 'timeout') => {
      if (done) return;
      done = true;
      timers.forEach(clearTimeout);
      unsubscribe();
      resolve({ decision, decidedAt: performance.now(), endedBy });
    };
    const check = (final = false) => {
      const d = decide(ev, errorMap, final);
      if (d) finish(d, 'evidence');
    };
    const unsubscribe = endpoint.onObservation(() => check());
    ems.onLine((line) => {
      ev.lines.push(line);
      check();
      if (!done && attributeLine(line.text, errorMap) === 'handshake') {
        timers.push(setTimeout(() => {
          const d = decide(ev, errorMap, true);
          if (d) finish(d, 'timeout');
        }, HANDSHAKE_GRACE_MS));
      }
    });
    ems.onExit((exit: EmsExit) => {
      ev.exit = exit;
      check(true);
    });
    timers.push(setTimeout(() => finish({ verdict: 'HANG', because: `no decisive evidence within ${hangMs} ms` }, 'timeout'), hangMs));
  });
}

async function checkConnected(ems: EmsProcess): Promise<boolean> {
  let lines = 0;
  let wake: (() => void) | undefined;
  ems.onLine(() => {
    lines++;
    wake?.();
  });
  const until = performance.now() + REST_RECHECK.forMs;
  for (;;) {
    const seen = lines;
    if (await ems.isConnected().catch(() => false)) return true;
    if (performance.now() >= until) return false;
    // A line that came during the request already counts: no waiting for the next one then.
    if (lines === seen) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, REST_RECHECK.everyMs);
        wake = done;
        function done() {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        }
      });
    }
  }
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
