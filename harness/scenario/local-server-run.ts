import type { RestEndpoint } from '../ems/rest-endpoint.ts';
import { probeLocalServer, type LocalServerEvidence } from '../lsr/probe.ts';
import type { Catalogue } from '../pki/catalogue.ts';
import { partsOf, type Expectation, type Scenario } from './model.ts';
import type { TargetProfile, TargetSession } from './target.ts';
import type { Evidence } from './verdict.ts';

// The local-server scenarios' step in the run loop (run.ts): once the platform link is up, the
// harness plays the LSR against the EMS's local server, through the same session (the EMS's own
// loopback), for what the scenario's expectations ask. Platform-link scenarios skip it.

export interface LocalServerContext {
  rest: RestEndpoint;
  session: TargetSession;
  catalogue: Catalogue;
  /** The scenario's evidence so far: the EMS's lines are read for its warnings when the probe is over. */
  ev: Evidence;
  profile: TargetProfile;
}

export async function localServerStep(s: Scenario, members: readonly Expectation[], ctx: LocalServerContext): Promise<LocalServerEvidence | undefined> {
  if (s.link !== 'local-server') return undefined;
  // A start-up refusal alone asks nothing of a server that should not be there.
  const parts = members.flatMap(partsOf).filter((p) => p.outcome !== 'refuses-to-start');
  if (!parts.length) return undefined;
  return probeLocalServer({
    parts, rest: ctx.rest, session: ctx.session, catalogue: ctx.catalogue,
    lines: () => ctx.ev.lines.map((l) => l.text),
    ...(ctx.profile.warningMap ? { warningMap: ctx.profile.warningMap } : {}),
  });
}
