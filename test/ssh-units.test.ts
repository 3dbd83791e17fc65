import { strict as assert } from 'node:assert';
import { execa } from 'execa';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTargets, readInventory } from '../targets/inventory.ts';
import { fingerprint, fingerprintOfPublicKey, pinHostKey } from '../targets/ssh/host-key.ts';
import { beginJournal, putBackFiles, readJournal, restoreFromJournal, type JournalOps } from '../targets/ssh/journal.ts';
import type { SshConnection } from '../targets/ssh/connection.ts';
import { SshLinuxTarget } from '../targets/ssh/linux.ts';
import { CLEAR_RUNS, listeningPorts, shCommand, shQuote } from '../targets/ssh/posix.ts';

// The SSH drivers' parts that need no gateway: host-key fingerprints and pinning, POSIX quoting
// and the gateway-side scripts (run here by a real sh), the inventory schema, the restore journal.

describe('SSH: host keys', () => {
  const pub = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFj4lZFaPbzo82N463s4iRINYZbfKkxJwxWtSORyX+ks vector';

  it('fingerprints a key as `ssh-keygen -lf` prints it (SHA256:, unpadded base64)', () => {
    assert.equal(fingerprintOfPublicKey(pub), 'SHA256:vATrt5FlycNrx90Rui4252EfqSokp3P01y8cGOLcixQ');
    assert.equal(fingerprint(Buffer.from(pub.split(' ')[1]!, 'base64')), 'SHA256:vATrt5FlycNrx90Rui4252EfqSokp3P01y8cGOLcixQ');
  });

  it('pins a first-contact key in the inventory, keeping its comments', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pin-'));
    const file = join(dir, 'inv.yaml');
    await writeFile(file, '# the lab\ntargets:\n  - id: a # first\n    kind: local\n  - id: b\n    kind: ssh-linux # second\n');
    const said = await pinHostKey(file, 'b', 'SHA256:vATrt5FlycNrx90Rui4252EfqSokp3P01y8cGOLcixQ');
    assert.match(said, /pinned SHA256:vATrt5\S+ as targets\[1\]\.hostKey of b in .*inv\.yaml/);
    const text = await readFile(file, 'utf8');
    assert.match(text, /# the lab/);
    assert.match(text, /kind: ssh-linux # second\n\s+hostKey: SHA256:vATrt5FlycNrx90Rui4252EfqSokp3P01y8cGOLcixQ/);
    assert.match(await pinHostKey(join(dir, 'gone.yaml'), 'b', 'SHA256:x'), /for this run only .* pin it: hostKey: SHA256:x/);
    await rm(dir, { recursive: true });
  });
});

describe('SSH: POSIX commands (run by a real sh)', () => {
  it('quotes any value as one word', async () => {
    const values = ["it's", 'a b', '$(id) `id` $HOME', '"\\n', '', '-n', 'ünïcode'];
    const r = await execa('sh', ['-c', `printf '%s\\n' ${values.map(shQuote).join(' ')}`]);
    assert.deepEqual(r.stdout.split('\n'), values);
  });

  it('clears leftover runs: kills an EMS that is still ours, removes the directories', async () => {
    const runs = await mkdtemp(join(tmpdir(), 'runs-'));
    const dir = join(runs, 'scenario-abc');
    await mkdir(dir);
    await writeFile(join(dir, 'config.json'), '{}');
    const ems = execa('tail', ['-f', join(dir, 'config.json')], { reject: false }); // a process naming its run directory
    await writeFile(join(dir, 'ems.pid'), `${ems.pid}\n`);
    await writeFile(join(dir, 'client.key'), 'secret');
    const out = (await execa('sh', ['-c', CLEAR_RUNS, 'x', runs])).stdout;
    assert.match(out, new RegExp(`stopped leftover EMS pid ${ems.pid} of ${dir}\nremoved ${dir}`));
    assert.equal((await ems).signal, 'SIGKILL');
    await rm(runs, { recursive: true });
  });

  it('builds exec commands that never reparse their arguments', () => {
    assert.equal(shCommand('echo "$1"', ["it's"]), `exec sh -c 'echo "$1"' wsems-harness 'it'\\''s'`);
  });

  it('reads listening ports from /proc/net/tcp text', () => {
    const text = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0',
      '   1: 0100007F:C350 0100007F:1F40 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1',
      '   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 3',
    ].join('\n');
    assert.deepEqual(listeningPorts(text), [8000, 22]);
  });
});

describe('SSH: inventory entries', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'inv-')); });
  after(() => rm(dir, { recursive: true, force: true }));

  const linux = (over: string) => `targets:
  - id: gw
    kind: ssh-linux
    address: 192.0.2.10
    user: root
    auth: { keyFile: key }
    hostKey: SHA256:vATrt5FlycNrx90Rui4252EfqSokp3P01y8cGOLcixQ
    platform: { host: platform.conformance.test, bind: 192.0.2.1 }
    ems: { installDir: /opt/ems }
    flavour: openssl
${over}`;
  const parse = async (text: string) => {
    const file = join(dir, `inv-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, text);
    return { file, run: () => readInventory(file) };
  };

  it('takes the documented Linux and Windows examples (docs/lab.md)', async () => {
    const doc = await readFile(new URL('../docs/lab.md', import.meta.url), 'utf8');
    const examples = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((y) => y.startsWith('targets:'));
    assert.ok(examples.length >= 2, 'docs/lab.md has a Linux and a Windows inventory example');
    const kinds = new Set<string>();
    for (const y of examples) for (const t of (await (await parse(y)).run()).targets) kinds.add(t.kind);
    assert.ok(kinds.has('ssh-linux') && kinds.has('ssh-windows'));
  });

  it('never takes a password, passphrase or key in the file, naming the field', async () => {
    const { file, run } = await parse(linux('').replace('auth: { keyFile: key }', 'auth: { password: hunter22 }'));
    await assert.rejects(run, (e: Error) => e.message.startsWith(`${file}: targets[0].auth.password: never write a password in the inventory`));
  });

  it('names the field of each bad value', async () => {
    const cases: Array<[string, RegExp]> = [
      [linux('').replace(/hostKey: \S+/, 'hostKey: MD5:aa:bb'), /targets\[0\]\.hostKey: /],
      [linux('').replace('auth: { keyFile: key }', 'auth: { keyFile: key, agent: true }'), /targets\[0\]\.auth: give exactly one of keyFile, agent: true or passwordEnv/],
      [linux('').replace('installDir: /opt/ems', 'installDir: opt/ems'), /targets\[0\]\.ems\.installDir: an absolute path/],
      [linux('').replace('bind: 192.0.2.1', 'bind: harness'), /targets\[0\]\.platform/],
      [linux('').replace('ems: { installDir: /opt/ems }', 'ems: { installDir: /opt/ems, start: { mode: systemd } }'), /targets\[0\]\.ems\.start\.unit/],
      [linux('').replace('kind: ssh-linux', 'kind: ssh-windows'), /targets\[0\]\.ems\.installDir: an absolute Windows path/],
    ];
    for (const [text, re] of cases) {
      const { file, run } = await parse(text);
      await assert.rejects(run, (e: Error) => e.message.startsWith(`${file}: `) && re.test(e.message), text);
    }
  });

  it('resolves credentials at load time, naming the file and field when one is missing', async () => {
    const { file } = await parse(linux('').replace('auth: { keyFile: key }', 'auth: { passwordEnv: WSEMS_TEST_UNSET_PASSWORD }'));
    await withEnv('WSEMS_TEST_UNSET_PASSWORD', undefined, () =>
      assert.rejects(loadTargets(file), (e: Error) => e.message === `${file}: targets[0].auth.passwordEnv: the environment variable WSEMS_TEST_UNSET_PASSWORD is not set`));
    const missingKey = await parse(linux(''));
    await assert.rejects(loadTargets(missingKey.file), (e: Error) => e.message.startsWith(`${missingKey.file}: targets[0].auth.keyFile: cannot read ${join(dir, 'key')} (ENOENT)`));
  });

  it('gives a gateway one scenario at a time and keeps SSH secrets for redaction', async () => {
    const { file } = await parse(linux('').replace('auth: { keyFile: key }', 'auth: { passwordEnv: WSEMS_TEST_PASSWORD }'));
    const [t] = await withEnv('WSEMS_TEST_PASSWORD', 'correct-horse-battery', () => loadTargets(file));
    assert.equal(t!.concurrency, 1);
    assert.deepEqual(t!.secrets, ['correct-horse-battery']);
    assert.equal(t!.bindAddress, '192.0.2.1');
    assert.equal(t!.platformHost, 'platform.conformance.test');
  });
});

describe('SSH: the restore journal', () => {
  /** A gateway's files and service, in memory. */
  function fakeGateway(files: Record<string, string>, running: boolean) {
    const fs = new Map(Object.entries(files).map(([k, v]) => [k, Buffer.from(v)]));
    const log: string[] = [];
    const state = { running, cleared: 0 };
    const ops: JournalOps = {
      readFile: async (p) => fs.get(p),
      writeFile: async (p, d) => void fs.set(p, Buffer.from(d)),
      writeFileAtomic: async (p, d) => void fs.set(p, Buffer.from(d)),
      mode: async () => 0o640,
      remove: async (p) => void fs.delete(p),
      clearRuns: async () => (state.cleared++, ['removed runs/x']),
      service: {
        name: 'wsems',
        running: async () => state.running,
        start: async () => { state.running = true; log.push('start'); },
        stop: async () => { state.running = false; log.push('stop'); },
      },
    };
    return { fs, ops, log, state };
  }
  const paths = { journal: '/w/journal.json', backup: (i: number) => `/w/journal-${i}.orig` };

  it('records originals before the change and puts them back after each scenario', async () => {
    const g = fakeGateway({ '/ems/etc/config.json': 'ORIGINAL' }, true);
    const journal = await beginJournal(g.ops, paths, 'gw', ['/ems/etc/config.json', '/ems/etc/new.pem']);
    assert.deepEqual(journal.files, [
      { path: '/ems/etc/config.json', backup: '/w/journal-0.orig', mode: 0o640 },
      { path: '/ems/etc/new.pem', backup: null, mode: null },
    ]);
    assert.deepEqual(journal.service, { name: 'wsems', wasRunning: true });
    assert.deepEqual(await readJournal(g.ops, paths), journal);
    g.fs.set('/ems/etc/config.json', Buffer.from('SCENARIO WITH SECRETS'));
    g.fs.set('/ems/etc/new.pem', Buffer.from('KEY'));
    await putBackFiles(g.ops, journal);
    assert.equal(g.fs.get('/ems/etc/config.json')!.toString(), 'ORIGINAL');
    assert.equal(g.fs.has('/ems/etc/new.pem'), false);
  });

  it('restores everything, service state last, and removes the journal; a second restore finds nothing', async () => {
    const g = fakeGateway({ '/ems/etc/config.json': 'ORIGINAL' }, true);
    const journal = await beginJournal(g.ops, paths, 'gw', ['/ems/etc/config.json']);
    g.fs.set('/ems/etc/config.json', Buffer.from('CHANGED'));
    g.state.running = true;
    const done = await restoreFromJournal(g.ops, paths, journal);
    assert.deepEqual(done, ['removed runs/x', 'restored /ems/etc/config.json', 'started wsems again']);
    assert.deepEqual(g.log, ['stop', 'start']);
    assert.equal(g.fs.get('/ems/etc/config.json')!.toString(), 'ORIGINAL');
    assert.deepEqual([...g.fs.keys()], ['/ems/etc/config.json']);
    assert.equal(await readJournal(g.ops, paths), undefined);
  });

  it('leaves a service stopped that was stopped before', async () => {
    const g = fakeGateway({}, false);
    const journal = await beginJournal(g.ops, paths, 'gw', []);
    g.state.running = true;
    assert.deepEqual(await restoreFromJournal(g.ops, paths, journal), ['removed runs/x', 'left wsems stopped, as it was']);
    assert.equal(g.state.running, false);
  });

  it('refuses a damaged journal, naming it', async () => {
    const g = fakeGateway({ '/w/journal.json': '{"format":2}' }, false);
    await assert.rejects(readJournal(g.ops, paths), /\/w\/journal\.json \(restore journal on the gateway\): format: .*inspect it and restore by hand/);
  });
});

describe('SSH: -encrypt answers kept per gateway and secret', () => {
  it('asks only the runs not made yet, in one script; a secret asked twice gets two runs, and a later scenario the same pair', async () => {
    const target = new SshLinuxTarget({
      id: 'gw', inventoryFile: 'inv.yaml', profile: { flavour: 'openssl', os: 'linux', capabilities: [], errorMap: [] }, pathStyle: 'posix',
      platform: { tunnel: 'reverse' },
      ssh: { host: 'gw', port: 22, user: 'admin', auth: { describe: 'x' }, hostKeys: [], keepalive: { intervalMs: 1000, countMax: 3 }, connectTimeoutMs: 1000 },
      workDir: '/var/lib/wsems-conformance', installDir: '/opt/ems', executable: '/opt/ems/bin/wsems', acceptNewHostKey: false,
    }, { mode: 'process', env: {} });
    // The script's frames as encryptAllScript prints them: per secret its exit code and output, then its stderr.
    const scripts: string[][] = [];
    let runs = 0;
    target.runScript = async (_conn, script) => {
      const [nonce, , , ...secrets] = script.args;
      scripts.push(secrets);
      const stdout = secrets.map((s) => `${nonce} 0 enc(${s})#${++runs}\n${nonce} err \n`).join('');
      return { code: 0, signal: null, stdout, stderr: '' };
    };
    const conn = {} as SshConnection;
    assert.deepEqual(await target.encryptAll(conn, ['a', 'a', 'b', 'b']), ['enc(a)#1', 'enc(a)#2', 'enc(b)#3', 'enc(b)#4']);
    assert.deepEqual(await target.encryptAll(conn, ['b', 'b', 'a', 'a']), ['enc(b)#3', 'enc(b)#4', 'enc(a)#1', 'enc(a)#2'], 'kept: no script');
    assert.deepEqual(await target.encryptAll(conn, ['a', 'a', 'a', 'c', 'c']), ['enc(a)#1', 'enc(a)#2', 'enc(a)#5', 'enc(c)#6', 'enc(c)#7']);
    assert.deepEqual(scripts, [['a', 'a', 'b', 'b'], ['a', 'c', 'c']]);
  });
});

/** Runs `fn` with one environment variable set (or unset), and puts it back as it was whatever happens. */
async function withEnv<T>(name: string, value: string | undefined, fn: () => Promise<T>): Promise<T> {
  const before = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env[name];
    else process.env[name] = before;
  }
}
