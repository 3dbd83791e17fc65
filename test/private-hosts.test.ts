import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CONFORMANCE_NAMES } from '../harness/scenario/capabilities.ts';
import type { EmsExit, EmsProcess } from '../harness/scenario/target.ts';
import { LocalTarget } from '../targets/local.ts';
import { needsPrivateHosts, privateHostsText } from '../targets/private-hosts.ts';
import { skipBecause } from './skip-because.ts';

// The capability conformance-names on a local target: the EMS (here a stand-in script that only
// resolves names and reports its pid) resolves the conformance names through its own /etc/hosts,
// the harness host's resolver is left alone, and the process started is the EMS itself.

const config = (host: string) => JSON.stringify({ ws_servers: [{ host, port: 1 }], http_server: { port: 1 } });

async function run(target: LocalTarget, host: string): Promise<{ lines: string[]; exit: EmsExit }> {
  const session = await target.openSession('private-hosts');
  try {
    const ems: EmsProcess = await session.start(config(host));
    const lines: string[] = [];
    ems.onLine((l) => lines.push(l.text));
    const exit = await new Promise<EmsExit>((resolve) => ems.onExit(resolve));
    return { lines, exit };
  } finally {
    await session.close();
  }
}

describe('private /etc/hosts for a local EMS (capability conformance-names)', function () {
  this.timeout(30_000);
  let dir: string;
  let executable: string;
  const target = (capabilities: string[]) =>
    new LocalTarget({ id: 'stand-in', executable, profile: { flavour: 'openssl', os: 'linux', capabilities, errorMap: [] } });

  before(async function () {
    if (process.platform !== 'linux' || spawnSync('unshare', ['--version']).error) skipBecause(this, 'needs Linux and unshare(1) for a private network namespace');
    dir = await mkdtemp(path.join(tmpdir(), 'private-hosts-'));
    executable = path.join(dir, 'wsems');
    // Prints its parent's pid and what each conformance name resolves to, as the EMS's resolver sees it.
    await writeFile(executable, `#!/bin/sh\necho "parent $PPID"\nfor n in ${CONFORMANCE_NAMES.join(' ')}; do echo "$n -> $(getent hosts "$n" | cut -d' ' -f1)"; done\n`);
    await chmod(executable, 0o755);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('knows the conformance names, in any letter case, and nothing else', () => {
    assert.ok(needsPrivateHosts('platform.conformance.test'));
    assert.ok(needsPrivateHosts('Sub.Platform.Conformance.Test'));
    for (const host of ['localhost', '127.0.0.1', 'conformance.test.example', undefined]) assert.equal(needsPrivateHosts(host), false, String(host));
  });

  it('writes the machine\'s hosts file followed by every conformance name on the endpoint address', async () => {
    const text = await privateHostsText('127.0.0.1');
    assert.ok(text.endsWith(`127.0.0.1 ${CONFORMANCE_NAMES.join(' ')}\n`));
    assert.match(text, /localhost/);
  });

  it('lets the EMS resolve the conformance names to the endpoints, and exec()s it in place', async () => {
    const { lines, exit } = await run(target(['conformance-names']), 'platform.conformance.test');
    assert.equal(exit.code, 0, lines.join('\n'));
    for (const name of CONFORMANCE_NAMES) assert.ok(lines.includes(`${name} -> 127.0.0.1`), `${name} in:\n${lines.join('\n')}`);
    // Its parent is the harness: unshare and sh exec'd in place, so the pid the harness signals is the EMS's.
    assert.equal(lines[0], `parent ${process.pid}`);
    // The harness's own resolver never sees the names.
    assert.notEqual(spawnSync('getent', ['hosts', 'platform.conformance.test']).status, 0);
  });

  it('starts the EMS as it is for other hosts, or on a target without the capability', async () => {
    for (const [capabilities, host] of [[['conformance-names'], 'localhost'], [[], 'platform.conformance.test']] as const) {
      const { lines } = await run(target([...capabilities]), host);
      assert.ok(lines.includes('platform.conformance.test -> '), `${capabilities.join()} ${host}:\n${lines.join('\n')}`);
    }
  });
});
