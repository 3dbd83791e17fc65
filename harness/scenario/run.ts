import { randomBytes } from 'node:crypto';
import { startEndpoint, type Endpoint } from '../endpoints/start.ts';
import type { Observation } from '../endpoints/observations.ts';
import { renderConfig, type Rendered } from '../ems/render.ts';
import { matchLine } from '../ems/error-map.ts';
import { askIsConnected } from '../ems/rest-endpoint.ts';
import { judgeLocalServer } from '../lsr/judge.ts';
import type { LocalServerEvidence } from '../lsr/probe.ts';
import { localServerStep } from './local-server-run.ts';
import type { Catalogue } from '../pki/catalogue.ts';
import type { Redactor } from '../report/redact.ts';
import type { EmsProcess, Target, TargetSession } from './target.ts';
import { effectiveCapabilities } from './capabilities.ts';
import { expectationFor, type Expectation, type Scenario } from './model.ts';
import type { FailureClass, RequirementId } from './requirements.ts';
import { judge, type Decision, type Evidence, type PlatformRoute, type Status, type Verdict } from './verdict.ts';
import { awaitVerdict } from './verdict-watch.ts';
import { injectedDefect } from './injected-defect.ts';
import { checkSecrets, requirementsWith, withSecretFailures, type SecretEvidence } from './secret-checks.ts';

// One scenario on one target: endpoint up, config rendered, EMS started, verdict at the first
// decisive evidence, everything stopped and removed again whatever happened.

export interface ScenarioResult {
  scenario: string;
  family: string;
  title: string;
  requirements: RequirementId[];
  target: string;
  /** The expectation: for a set, the member that held (or the first, when none did). */
  expected: Expectation;
  /** Where the spec allows more than one outcome: every member of the set, and which one held. */
  expectedAnyOf?: Expectation[];
  met?: number;
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
      /** A local-server scenario: what the harness, as the LSR, saw of the EMS's local server. */
      localServer?: LocalServerEvidence;
      /** SECRET-NOLOG's search of everything the EMS wrote and SECRET-ENCRYPT's strength check: what they looked at and found. */
      secrets?: SecretEvidence;
    };
  };
  status: Status;
  message?: string;
  /** The target accepted weak crypto (a recorded policy): status passed, reported as weak (amber), never as holding. */
  weak?: { what: string; evidence: string };
  /** When the scenario began on its target (ISO 8601); with durationMs, its real place in the run's timeline. */
  startedAt?: string;
  durationMs: number;
  /** From the first decisive evidence to the verdict; absent when no evidence decided. */
  verdictLatencyMs?: number;
  endedBy: 'evidence' | 'timeout' | 'not-run';
  /** The patterns of the target's own (inventory) errorMap that matched a line of this scenario. */
  errorMapHits?: string[];
  /** The EMS ran with a test-only defect (mutation testing): this result is no conformance verdict. */
  injectedDefect?: string;
  /**
   * Set when a check every scenario gets failed (SECRET-NOLOG, SECRET-ENCRYPT's strength): which
   * requirements it failed, and the status the scenario's own expectation had. The sanity gate and the
   * matrix rows of the scenario's own requirements go by that status.
   */
  checks?: { failed: RequirementId[]; expectationStatus: Status };
}

export interface RunContext {
  catalogue: Catalogue;
  redactor: Redactor;
  /** Called once the verdict is taken, before the EMS is stopped and the scenario cleaned up. */
  decided?: () => void;
}

/**
 * The EMS's REST state may trail its log by a message or two (the simulator and the C SDK bind
 * after AUTH, then log): asked again at each new log line, else every `everyMs`, for `forMs`.
 */
const REST_RECHECK = { everyMs: 25, forMs: 1000 };
const LOG_EXCERPT = 200;

export async function runScenario(family: string, s: Scenario, target: Target, ctx: RunContext): Promise<ScenarioResult> {
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  const members = expectationFor(s, target.profile);
  const set = members.length > 1 ? { expectedAnyOf: members } : {};
  const base = { scenario: s.id, family, title: s.title, requirements: s.requirements, target: target.id, expected: members[0]!, ...set };
  const capabilities = effectiveCapabilities(target.profile.capabilities);
  const missing = s.needs.filter((c) => !capabilities.includes(c));
  if (missing.length) {
    const because = `target ${target.id} lacks capability ${missing.join(', ')}`;
    return { ...base, actual: { verdict: 'UNSUPPORTED', because, evidence: { observations: [], emsLog: [] } }, status: 'skipped', message: because, startedAt, durationMs: 0, endedBy: 'not-run' };
  }

  const appKey = randomBytes(24).toString('base64url');
  ctx.redactor.add(appKey);
  let endpoint: Endpoint | undefined;
  let session: TargetSession | undefined;
  let ems: EmsProcess | undefined;
  let rendered: Rendered | undefined;
  const ev: Evidence = { observations: [], lines: [] };
  let outcome: { decision: Decision; decidedAt: number; endedBy: 'evidence' | 'timeout' };
  let restConnected: boolean | undefined;
  let localServer: LocalServerEvidence | undefined;
  try {
    endpoint = await startEndpoint(s.endpoint, {
      catalogue: ctx.catalogue, appKey, bindAddress: target.bindAddress,
      ...(target.profile.endpointPorts ? { ports: target.profile.endpointPorts } : {}),
    });
    ev.observations = endpoint.observations;
    session = await target.openSession(s.id);
    rendered = await renderConfig({ scenario: s, target, session, catalogue: ctx.catalogue, endpointPort: endpoint.port, appKey, redactor: ctx.redactor });
    ev.route = routeOf(rendered.config, endpoint.port, target);
    ems = await session.start(rendered.json);
    outcome = await awaitVerdict({ platform: endpoint, ems }, ev, target.profile.errorMap, s.hangMs);
    if (outcome.decision.verdict === 'CONNECTED') {
      const { rest } = rendered;
      const open = session;
      restConnected = await checkConnected(ems, async () => askIsConnected(await open.dial(rest.host, rest.port), rest));
      localServer = await localServerStep(s, members, { rest, session, catalogue: ctx.catalogue, ev, profile: target.profile });
    }
  } catch (e) {
    outcome = { decision: { verdict: 'BROKEN', because: (e as Error).message }, decidedAt: performance.now(), endedBy: 'evidence' };
  } finally {
    ctx.decided?.();
    await Promise.allSettled([ems?.stop()]);
    await Promise.allSettled([session?.close(), endpoint?.close()]);
  }

  const { decision, decidedAt, endedBy } = outcome;
  let judgement = s.link === 'local-server' ? judgeLocalServer(members, decision, ev, localServer) : judge(members, decision, ev);
  if (judgement.status === 'passed' && restConnected === false) {
    judgement = { status: 'failed', message: 'the platform and the EMS log say connected, but the EMS REST API says isConnected=false' };
  }
  // Every line the EMS wrote is in by now (it has stopped): the secret checks see all of it.
  const secrets = checkSecrets(rendered?.secrets ?? [], rendered?.encryptions ?? [], ev.lines);
  ctx.redactor.add(...secrets.revealed);
  const checks = secrets.failures.length ? { failed: [...new Set(secrets.failures.map((f) => f.requirement))], expectationStatus: judgement.status } : undefined;
  judgement = withSecretFailures(judgement, secrets.failures);
  const defect = injectedDefect(ev.lines);
  const config = rendered?.config;
  const result: ScenarioResult = {
    ...base,
    requirements: requirementsWith(s.requirements, secrets.failures),
    ...(judgement.met !== undefined ? { expected: members[judgement.met]!, met: judgement.met } : {}),
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
        ...(localServer ? { localServer } : {}),
        ...(rendered ? { secrets: secrets.evidence } : {}),
      },
    },
    status: judgement.status,
    ...(judgement.message ? { message: judgement.message } : {}),
    ...(judgement.weak ? { weak: { what: judgement.weak, evidence: weakEvidence(ev, s) } } : {}),
    startedAt,
    durationMs: Math.round(performance.now() - t0),
    ...(decision.evidenceAt !== undefined ? { verdictLatencyMs: round2(decidedAt - decision.evidenceAt) } : {}),
    endedBy: localServer?.timedOut ? 'timeout' : endedBy,
    ...hitsOf(ev, target),
    ...(defect ? { injectedDefect: defect } : {}),
    ...(checks ? { checks } : {}),
  };
  return ctx.redactor.value(result);
}

/** What the platform saw of the weak connection: the protocol, suite and certificate it was accepted with. */
function weakEvidence(ev: Evidence, s: Scenario): string {
  const hs = ev.observations.find((o) => o.kind === 'handshake-ok');
  const tls = hs?.kind === 'handshake-ok' ? `${hs.protocol} ${hs.cipher}` : 'no handshake observed';
  return `connected with ${tls}; platform certificate ${s.endpoint.cert}; platform accepted AUTH`;
}

/** Where the rendered config sends the EMS, and where the endpoint listens: for a diagnosis when it cannot get there. */
function routeOf(config: Record<string, unknown>, port: number, target: Target): PlatformRoute {
  const servers = Array.isArray(config.ws_servers)
    ? (config.ws_servers as Array<{ host?: unknown; port?: unknown }>).map((s) => ({ host: String(s.host), port: Number(s.port) }))
    : [];
  return { target: target.id, servers, bindAddress: target.bindAddress, port, ...(target.platformRoute ? { via: target.platformRoute } : {}) };
}

/** The target's own error-map entries this scenario's lines matched (an entry no scenario matches is reported as unused). */
function hitsOf(ev: Evidence, target: Target): { errorMapHits?: string[] } {
  const own = target.profile.errorMap;
  if (!own.length) return {};
  const hits = new Set<string>();
  for (const line of ev.lines) {
    const entry = matchLine(line.text, own);
    if (entry && own.includes(entry)) hits.add(entry.pattern);
  }
  return hits.size ? { errorMapHits: [...hits] } : {};
}

/** `ask`: one isConnected request through the LSR client, as the rendered http_server says (harness/ems/rest-endpoint.ts). */
async function checkConnected(ems: EmsProcess, ask: () => Promise<boolean>): Promise<boolean> {
  let lines = 0;
  let wake: (() => void) | undefined;
  ems.onLine(() => {
    lines++;
    wake?.();
  });
  const until = performance.now() + REST_RECHECK.forMs;
  for (;;) {
    const seen = lines;
    if (await ask().catch(() => false)) return true;
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
