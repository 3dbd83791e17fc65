import * as allure from 'allure-js-commons';
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
}
