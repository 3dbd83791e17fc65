import { strict as assert } from 'node:assert';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareRun } from './prepare-run.ts';
import { DEFAULT_INVENTORY } from '../targets/inventory.ts';
import { SESSION_PREFIX } from '../targets/local.ts';

// A run leaves nothing behind: no EMS process, no listening endpoint or REST port, no session
// directory — whether the scenarios connected, were refused at the handshake or at start-up.

async function sessionDirs(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((f) => f.startsWith(SESSION_PREFIX));
}

/** EMS processes started by a run: their -cfg names a session directory. */
async function emsProcesses(): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(SESSION_PREFIX)) found.push(`${pid}: ${cmd.replace(/\0/g, ' ')}`);
  }
  return found;
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(false); });
    s.once('error', () => resolve(true));
  });
}

describe('a conformance run', function () {
  this.timeout(120_000);
  let reports: string;
  before(async () => { reports = await mkdtemp(join(tmpdir(), 'leak-test-reports-')); });
  after(() => rm(reports, { recursive: true, force: true }));

  it('leaves no process, port or temp directory behind', async () => {
    const dirsBefore = await sessionDirs();
    const run = await prepareRun({
      inventory: DEFAULT_INVENTORY,
      only: ['simulator'],
      reportsDir: reports,
      jobs: 2,
      scenarios: ['cert.self-signed.refused', 'client.key-p12.wrong-passphrase', 'client.none-presented', 'criteria.all-match'],
    });
    const doc = await run.finish();
    assert.deepEqual(doc.results.map((r) => `${r.scenario}:${r.status}`).sort(), [
      'baseline.sanity:passed', 'cert.self-signed.refused:passed', 'client.key-p12.wrong-passphrase:passed',
      'client.none-presented:passed', 'criteria.all-match:passed',
    ]);
    assert.deepEqual(await emsProcesses(), []);
    assert.deepEqual((await sessionDirs()).filter((d) => !dirsBefore.includes(d)), []);
    const ports = doc.results.flatMap((r) => {
      const cfg = r.actual.evidence.config as { ws_servers?: Array<{ port: number }>; http_server?: { port: number } } | undefined;
      return [cfg?.ws_servers?.[0]?.port, cfg?.http_server?.port].filter((p): p is number => typeof p === 'number');
    });
    assert.equal(ports.length, 10, 'every result carries its endpoint and REST port');
    for (const p of ports) assert.ok(await refused(p), `port ${p} still accepts connections`);
    const written = JSON.parse(await readFile(join(reports, 'results.json'), 'utf8')) as { results: unknown[] };
    assert.equal(written.results.length, 5);
  });
});
