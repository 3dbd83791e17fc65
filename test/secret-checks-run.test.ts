import { strict as assert } from 'node:assert';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import type { ScenarioResult } from '../harness/scenario/run.ts';
import { DEFAULT_INVENTORY } from '../targets/inventory.ts';
import { prepareRun } from './prepare-run.ts';

// SECRET-NOLOG and SECRET-ENCRYPT's strength check in real runs: on every default target each
// result carries what was searched (and finds nothing), and two wrapped simulators that leak the
// app key (hex on stderr, base64 on stdout) or "encrypt" it as base64 fail naming the requirement,
// with the leaked forms redacted from what the run writes.

const SUBSET = ['secret.nolog.', 'secret.app-key-encrypted', 'client.key-enc-pem.wrong-passphrase', 'cert.host.mismatch'];

/** Prints the app key it is given, hex on stderr and base64 on stdout, then runs the simulator. */
const LEAKY_WSEMS = `#!/bin/sh
if [ "$1" = "-cfg" ]; then
  key=$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).appKey)' "$2")
  printf '%s\\n' "$key" >> "$CAPTURE/keys.txt"
  node -e 'const k = Buffer.from(process.argv[1]); console.error("debug: key " + k.toString("hex")); console.log("[TRACE] auth " + k.toString("base64"))' "$key"
fi
exec "$REAL_WSEMS" "$@"
`;

/** -encrypt prints base64 behind a prefix; -cfg turns such values back before the simulator reads them. */
const BASE64_ENCRYPT_WSEMS = `#!/bin/sh
if [ "$1" = "-encrypt" ]; then
  node -e 'console.log("b64:" + Buffer.from(process.argv[1]).toString("base64"))' "$2"
  exit 0
fi
if [ "$1" = "-cfg" ]; then
  node -e '
    const fs = require("fs"); const c = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    if (c.appKey.startsWith("b64:")) c.appKey = Buffer.from(c.appKey.slice(4), "base64").toString();
    fs.writeFileSync(process.argv[1], JSON.stringify(c));' "$2"
fi
exec "$REAL_WSEMS" "$@"
`;

describe('the secret checks in real runs', function () {
  this.timeout(180_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'secret-checks-run-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function runOn(inventory: string, scenarios: string[]): Promise<{ results: ScenarioResult[]; written: string }> {
    const reportsDir = await mkdtemp(join(dir, 'reports-'));
    const run = await prepareRun({ inventory, reportsDir, scenarios });
    const { results } = await run.finish();
    return { results, written: await readFile(join(reportsDir, 'results.json'), 'utf8') };
  }

  /** The default inventory's simulator with its executable wrapped by `script`. */
  async function wrapped(name: string, script: string): Promise<{ inventory: string; capture: string }> {
    const capture = join(dir, `${name}-capture`);
    await mkdir(capture);
    const wsems = join(dir, name);
    await writeFile(wsems, script);
    await chmod(wsems, 0o755);
    const inv = parseYaml(await readFile(DEFAULT_INVENTORY, 'utf8')) as { targets: Array<Record<string, unknown>> };
    const sim = inv.targets.find((t) => t.id === 'simulator')!;
    sim.env = { CAPTURE: capture, REAL_WSEMS: resolve(dirname(DEFAULT_INVENTORY), sim.executable as string) };
    sim.executable = wsems;
    const inventory = join(dir, `${name}.yaml`);
    await writeFile(inventory, toYaml({ targets: [sim] }, { aliasDuplicateObjects: false }));
    return { inventory, capture };
  }

  it('search everything each EMS of the default inventory wrote and find nothing; record every -encrypt', async () => {
    const { results } = await runOn(DEFAULT_INVENTORY, SUBSET);
    const ran = results.filter((r) => r.actual.verdict !== 'UNSUPPORTED');
    assert.ok(ran.length >= 3 * 5, `only ${ran.length} results ran`);
    for (const r of ran) {
      const s = r.actual.evidence.secrets;
      assert.ok(s, `${r.target}/${r.scenario}: no secret check`);
      assert.ok(s.searched.includes('app key'), `${r.target}/${r.scenario}: searched ${s.searched.join(', ')}`);
      assert.ok(s.lines >= r.actual.evidence.emsLog.length && s.lines > 0, `${r.target}/${r.scenario}: ${s.lines} lines searched`);
      assert.deepEqual(s.leaks, [], `${r.target}/${r.scenario}`);
      assert.equal(r.status, 'passed', `${r.target}/${r.scenario}: ${r.message}`);
    }
    for (const r of ran.filter((x) => x.scenario === 'secret.nolog.trace-encrypted')) {
      assert.deepEqual(r.actual.evidence.secrets!.encryptions, [{ kind: 'app key', deterministic: false }, { kind: 'key passphrase', deterministic: false }]);
      assert.deepEqual(r.actual.evidence.secrets!.searched, ['app key', 'key passphrase']);
    }
  });

  it('fail a scenario whose EMS wrote the app key hex- or base64-encoded, naming SECRET-NOLOG, the stream and line; the gate holds; nothing written shows the key', async () => {
    const { inventory, capture } = await wrapped('leaky-wsems', LEAKY_WSEMS);
    const { results, written } = await runOn(inventory, ['cert.host.mismatch']);
    const [sanity, mismatch] = results;
    for (const r of [sanity!, mismatch!]) {
      assert.equal(r.status, 'failed');
      assert.match(r.message!, /^SECRET-NOLOG: the app key \(hex\) in stderr line 1: "debug: key ‹app key›"; SECRET-NOLOG: the app key \(base64\) in stdout line 1: /);
      assert.ok(r.requirements.includes('SECRET-NOLOG'), r.requirements.join());
      assert.deepEqual(r.checks, { failed: ['SECRET-NOLOG'], expectationStatus: 'passed' });
    }
    assert.equal(mismatch!.actual.class, 'hostname-mismatch', 'the gate held: the scenario after it ran and was judged');
    const keys = (await readFile(join(capture, 'keys.txt'), 'utf8')).trim().split('\n');
    assert.equal(keys.length, 2);
    for (const key of keys) {
      for (const form of [key, Buffer.from(key).toString('hex'), Buffer.from(key).toString('base64').slice(4, -4)]) {
        assert.ok(!written.includes(form), `results.json holds ${form === key ? 'the app key' : 'an encoded app key'}`);
      }
    }
  });

  it('fail a scenario whose target\'s -encrypt only base64-encodes, naming SECRET-ENCRYPT, and record it deterministic', async () => {
    const { inventory } = await wrapped('base64-wsems', BASE64_ENCRYPT_WSEMS);
    const { results } = await runOn(inventory, ['secret.app-key-encrypted']);
    const r = results.find((x) => x.scenario === 'secret.app-key-encrypted')!;
    assert.equal(r.actual.verdict, 'CONNECTED', 'it works: the defect is only its strength');
    assert.equal(r.status, 'failed');
    assert.equal(r.message, 'SECRET-ENCRYPT: wsems -encrypt output for the app key base64 decoding gives the clear value back');
    assert.deepEqual(r.actual.evidence.secrets!.encryptions, [{ kind: 'app key', deterministic: true, reveals: 'base64 decoding gives the clear value back' }]);
    assert.ok(r.requirements.includes('SECRET-ENCRYPT'));
  });
});
