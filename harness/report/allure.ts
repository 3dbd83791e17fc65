import * as allure from 'allure-js-commons';
import type { ScenarioResult } from '../scenario/run.ts';
import { REQUIREMENTS } from '../scenario/requirements.ts';
import type { Target } from '../../targets/target.ts';

// Labels and evidence of one result for Allure (inside a running allure-mocha test). The result
// is already redacted; nothing else is attached.

export async function reportToAllure(r: ScenarioResult, target: Target): Promise<void> {
  const families = [...new Set(r.requirements.map((id) => REQUIREMENTS[id].family))];
  await allure.displayName(`${r.title} [${r.target}]`);
  await allure.epic(families.join(', ') || r.family);
  for (const id of r.requirements) {
    await allure.feature(id);
    await allure.tms(`REQUIREMENTS.md#${id.toLowerCase()}`, id);
  }
  await allure.story(r.scenario);
  await allure.parameter('target', r.target);
  await allure.parameter('flavour', target.profile.flavour);
  await allure.description(
    `Expected: ${JSON.stringify(r.expected)}\n\nGot: ${r.actual.verdict}${r.actual.class ? ` (${r.actual.class})` : ''} — ${r.actual.because}`,
  );
  const ev = r.actual.evidence;
  if (ev.config) await allure.attachment('config.json (redacted)', JSON.stringify(ev.config, null, 2), 'application/json');
  await allure.attachment('endpoint observations', JSON.stringify(ev.observations, null, 2), 'application/json');
  await allure.attachment('EMS log', ev.emsLog.join('\n') || '(no output)', 'text/plain');
}
