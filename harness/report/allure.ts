import * as allure from 'allure-js-commons';
import type { TestResult } from 'allure-js-commons';
import { getGlobalTestRuntime } from 'allure-js-commons/sdk/runtime';
import type { ScenarioResult } from '../scenario/run.ts';
import { REQUIREMENTS } from '../scenario/requirements.ts';
import type { Target } from '../scenario/target.ts';
import type { Divergence } from './divergences.ts';

// Labels and evidence of one result for Allure (inside a running allure-mocha test). The result
// is already redacted; nothing else is attached.

/**
 * Where a requirement ID links to (Allure `tms`): its row in the conformance matrix, which holds
 * the promise's text. Relative to reports/allure-report/index.html, so it works wherever reports/ is.
 */
export function requirementLink(id: string): string {
  return `../matrix.html#req-${id}`;
}

/**
 * Facts of a result only the run knows, handed to the results writer as labels (allure-js-commons
 * has no runtime call for a test's start, stop or status message) and taken out again by
 * `withScenarioFacts` before the file is written. Mocha runs each `it` after its scenario has
 * ended, so without this every result would show the few milliseconds the `it` took.
 */
const START = '_scenarioStart';
const DURATION = '_scenarioDurationMs';
const REASON = '_statusReason';

/** Why a result is skipped or known, for Allure's status details and mocha's output; undefined when neither. */
export function skipReason(r: ScenarioResult, divergence?: Divergence): string | undefined {
  if (divergence?.state === 'known') return divergence.note;
  if (r.status === 'skipped') return r.message ?? r.actual.because;
  return undefined;
}

/** The result as written: its scenario's real start and stop, a skip's reason as the status message. */
export function withScenarioFacts(result: TestResult): TestResult {
  const label = (name: string) => result.labels?.find((l) => l.name === name)?.value;
  const start = label(START);
  const duration = label(DURATION);
  const reason = label(REASON);
  if (start === undefined && reason === undefined) return result;
  const out: TestResult = { ...result, labels: result.labels.filter((l) => ![START, DURATION, REASON].includes(l.name)) };
  if (start !== undefined && duration !== undefined) {
    const stop = Date.parse(start) + Number(duration);
    Object.assign(out, { start: Date.parse(start), stop });
    // The evidence is attached as steps when the verdict is in: at the scenario's end.
    out.steps = (result.steps ?? []).map((step) => ({ ...step, start: stop, stop }));
  }
  if (reason !== undefined) out.statusDetails = { ...result.statusDetails, message: reason };
  return out;
}

export async function reportToAllure(r: ScenarioResult, target: Target, divergence?: Divergence): Promise<void> {
  // Under plain mocha (npm test) no Allure reporter listens, and every call would only print a
  // warning. Should the library rename its no-op runtime, this errs on the side of reporting.
  if (getGlobalTestRuntime().constructor.name === 'NoopTestRuntime') return;
  const families = [...new Set(r.requirements.map((id) => REQUIREMENTS[id].family))];
  await allure.displayName(`${r.title} [${r.target}]`);
  // One epic per requirement family, so a scenario checking two families is found under both.
  for (const f of families.length ? families : [r.family]) await allure.epic(f);
  for (const id of r.requirements) {
    await allure.feature(id);
    await allure.tms(requirementLink(id), id);
  }
  await allure.story(r.scenario);
  if (r.startedAt) {
    await allure.label(START, r.startedAt);
    await allure.label(DURATION, String(r.durationMs));
  }
  const reason = skipReason(r, divergence);
  if (reason) await allure.label(REASON, reason);
  await allure.parameter('target', r.target);
  await allure.parameter('flavour', target.profile.flavour);
  if (divergence) {
    // The tag lets the report's categories tell known and fixed divergences apart (allure-generate.ts).
    await allure.tag(`divergence:${divergence.state}`);
    await allure.issue(divergence.listed.link, divergence.listed.link);
  }
  // Weak crypto accepted (a recorded policy): the test passed, the tag puts it under its category.
  if (r.weak) await allure.tag('weak');
  await allure.description(
    `Expected: ${JSON.stringify(r.expectedAnyOf ? { anyOf: r.expectedAnyOf, held: r.met } : r.expected)}\n\nGot: ${r.actual.verdict}${r.actual.class ? ` (${r.actual.class})` : ''} — ${r.actual.because}` +
      (r.weak ? `\n\nWeak: ${r.weak.what} — ${r.weak.evidence}` : '') +
      (divergence ? `\n\nDivergence (${divergence.state}): ${divergence.note}` : ''),
  );
  const ev = r.actual.evidence;
  if (ev.config) await allure.attachment('config.json (redacted)', JSON.stringify(ev.config, null, 2), 'application/json');
  await allure.attachment('endpoint observations', JSON.stringify(ev.observations, null, 2), 'application/json');
  await allure.attachment('EMS log', ev.emsLog.join('\n') || '(no output)', 'text/plain');
  if (ev.localServer) await allure.attachment('local server, as the LSR saw it', JSON.stringify(ev.localServer, null, 2), 'application/json');
}
