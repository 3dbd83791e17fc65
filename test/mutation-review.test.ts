import { strict as assert } from 'node:assert';
import { execa } from 'execa';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { loadFamilies } from '../harness/scenario/families.ts';
import { REQUIREMENTS } from '../harness/scenario/requirements.ts';
import { DEFAULT_INVENTORY } from '../targets/inventory.ts';
import { ARMED_VARIABLE, DEFECT_VARIABLE, DEFECTS } from '../targets/simulator/defects.ts';
import { parseReview, readReview, runnableDefects } from './mutation/review.ts';

// docs/mutation-review.md against what it describes: the requirement catalogue, the scenario
// catalogue and the simulator's defect switch. (`npm run mutation` runs what it claims.)

/** The CERT-* ones, and the local server's certificate and credential requirements. */
const CERTIFICATE_REQUIREMENTS = [...Object.keys(REQUIREMENTS).filter((id) => id.startsWith('CERT-')), 'LSR-TLS', 'LSR-AUTH'];

describe('the mutation review (docs/mutation-review.md)', () => {
  it('has a section for every requirement, each listing defects', async () => {
    const review = await readReview();
    const wanted = Object.keys(REQUIREMENTS);
    assert.deepEqual(wanted.filter((id) => !review.requirements.includes(id)), []);
    assert.deepEqual(review.requirements.filter((id) => !wanted.includes(id)), [], 'a section for a requirement the catalogue does not have');
    for (const id of review.requirements) assert.ok(review.rows.some((r) => r.requirement === id), `${id} lists no defect`);
  });

  it('lists at least four defects for each certificate requirement', async () => {
    const review = await readReview();
    for (const id of CERTIFICATE_REQUIREMENTS) {
      const n = review.rows.filter((r) => r.requirement === id).length;
      assert.ok(n >= 4, `${id}: ${n} defects`);
    }
  });

  it('gives every runnable defect exactly one owning row and a simulator switch, and the simulator no switch it does not list', async () => {
    const review = await readReview();
    const owners = review.rows.filter((r) => r.status === 'killed' || r.status === 'recorded').map((r) => r.defect);
    assert.deepEqual(owners.filter((d, i) => owners.indexOf(d) !== i), [], 'a defect owned by two rows');
    assert.deepEqual([...owners].sort(), Object.keys(DEFECTS).sort());
    const claimed = review.rows.filter((r) => r.status.startsWith('also-')).map((r) => r.defect);
    assert.deepEqual(claimed.filter((d) => !owners.includes(d)), [], 'an "also" row for a defect no row owns');
    const argued = review.rows.filter((r) => r.status === 'excluded');
    assert.deepEqual(argued.filter((r) => r.defect in DEFECTS).map((r) => r.defect), [], 'an excluded defect that has a switch');
    assert.deepEqual(argued.filter((r) => r.killers.length > 0).map((r) => r.where), [], 'an excluded row naming killers');
  });

  it('names as killers only scenarios of the catalogue, each naming the row\'s requirement', async () => {
    const review = await readReview();
    const scenarios = new Map((await loadFamilies()).flatMap((f) => f.scenarios).map((s) => [s.id, s]));
    const wrong: string[] = [];
    for (const d of runnableDefects(review)) {
      if (d.owner.killers.length === 0) wrong.push(`${d.owner.where}: ${d.name} names no killer`);
      for (const row of d.rows) {
        for (const id of row.killers) {
          const s = scenarios.get(id);
          // SECRET-NOLOG and SECRET-ENCRYPT's strength are checked in every scenario: any scenario can kill for them.
          const everywhere = row.requirement === 'SECRET-NOLOG' || row.requirement === 'SECRET-ENCRYPT';
          if (!s) wrong.push(`${row.where}: no scenario ${id}`);
          else if (!everywhere && !s.requirements.includes(row.requirement as never)) wrong.push(`${row.where}: ${id} does not name ${row.requirement}`);
        }
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('reads a row\'s status and base target, and refuses a status it does not know', () => {
    const text = [
      '### CERT-HOST', '', '| defect | what | killed by | status |', '|---|---|---|---|',
      '| `a` | x | `s.one`, `s.two` | killed on `simulator-axtls` |',
      '| `b` | x | — | excluded: no |',
      '| `c` | x | `s.three` | also recorded (weak) |',
    ].join('\n');
    const { rows } = parseReview(text, 'r.md');
    assert.deepEqual(rows.map((r) => [r.defect, r.status, r.base, r.killers]), [
      ['a', 'killed', 'simulator-axtls', ['s.one', 's.two']], ['b', 'excluded', 'simulator', []], ['c', 'also-recorded', 'simulator', ['s.three']],
    ]);
    assert.throws(() => parseReview('### CERT-HOST\n| `a` | x | `s` | maybe |', 'r.md'), /r\.md:2: status "maybe"/);
    assert.throws(() => parseReview('| `a` | x | `s` | killed |', 'r.md'), /r\.md:1: a defect row outside/);
  });
});

describe('the simulator\'s defect switch', function () {
  this.timeout(30_000);
  const BIN = fileURLToPath(new URL('../targets/simulator/bin/wsems', import.meta.url));
  let dir: string;
  const wsems = (args: string[], env: Record<string, string>) =>
    execa(BIN, args, { env: { ...env, WSEMS_SIM_KEYFILE: join(dir, 'dp.dat') }, extendEnv: true, reject: false, cwd: dir });
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'defect-switch-'));
    await writeFile(join(dir, 'config.json'), '{}');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('refuses a defect without the second switch, saying why, and an unknown defect naming the known ones', async () => {
    const alone = await wsems(['-encrypt', 'x'], { [DEFECT_VARIABLE]: 'encrypt-hex' });
    assert.equal(alone.exitCode, 1);
    assert.equal(alone.stdout, '');
    assert.match(alone.stderr, /WSEMS_SIM_DEFECT is a test-only switch .* refused unless WSEMS_SIM_DEFECT_ARMED=defective-on-purpose/);
    const wrongValue = await wsems(['-cfg', 'config.json'], { [DEFECT_VARIABLE]: 'encrypt-hex', [ARMED_VARIABLE]: 'yes' });
    assert.equal(wrongValue.exitCode, 1);
    const unknown = await wsems(['-encrypt', 'x'], { [DEFECT_VARIABLE]: 'no-such', [ARMED_VARIABLE]: 'defective-on-purpose' });
    assert.match(unknown.stderr, /unknown defect "no-such"; known: verify-result-ignored, /);
  });

  it('announces an armed defect first thing: on stderr of -encrypt (stdout is the value alone), as the first line of a start', async () => {
    const armed = { [DEFECT_VARIABLE]: 'encrypt-hex', [ARMED_VARIABLE]: 'defective-on-purpose' };
    const enc = await wsems(['-encrypt', 'abc'], armed);
    assert.equal(enc.stdout, 'wsems-sim-hex:616263');
    assert.match(enc.stderr, /^wsems: DEFECT INJECTED: encrypt-hex \(mutation testing only: this EMS is defective on purpose: /);
    const start = await wsems(['-cfg', 'config.json'], armed);
    assert.match(start.stdout.split('\n')[0]!, /\[FORCE\] .*: wsems simulator: DEFECT INJECTED: encrypt-hex \(/);
    assert.equal(start.exitCode, 1, 'and then fails on the empty config as it would without the defect');
  });
});

describe('the simulator\'s defect switch in the default run', () => {
  it('is set by no target of the default inventory', async () => {
    const inv = parseYaml(await readFile(DEFAULT_INVENTORY, 'utf8')) as { targets: Array<{ id: string; env?: Record<string, string> }> };
    for (const t of inv.targets) {
      assert.ok(!(DEFECT_VARIABLE in (t.env ?? {})) && !(ARMED_VARIABLE in (t.env ?? {})), `${t.id} sets the defect switch`);
    }
    assert.equal(process.env[DEFECT_VARIABLE], undefined, `${DEFECT_VARIABLE} is set in the test environment: every simulator run would be defective`);
  });
});
