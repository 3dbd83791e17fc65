import { strict as assert } from 'node:assert';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StagedFile } from '../targets/ssh/gateway.ts';
import { fileArgs, systemdCommands, sysvCommands } from '../targets/ssh/linux.ts';
import { BOOTSTRAP, encryptAllScript, processScenarioScript, serviceScenarioScript, shFrame } from '../targets/ssh/posix.ts';

// The scripts a Linux gateway runs for a scenario, run here by a real sh (dash on Debian) through
// the same BOOTSTRAP a channel opened ahead runs: the upload of the files in one stream, the EMS
// started and its log on the channel, EOF stopping it and cleaning up, a cut
// upload leaving nothing. The virtual lab runs the same scripts over SSH (test/lab-*.test.ts).

const NONCE = '0123456789abcdef';

/** A fake EMS: says where it runs, then waits for SIGTERM and says goodbye. */
const FAKE_EMS = `#!/bin/sh
echo "ems starting $*"
echo "ems stderr line" >&2
trap 'echo "ems stopping"; exit 0' TERM
while :; do sleep 0.05; done
`;

interface Bootstrapped {
  child: ChildProcessWithoutNullStreams;
  out: string[];
  err: string[];
  /** Resolves at the first stdout or stderr line matching. */
  line(re: RegExp): Promise<string>;
  exited: Promise<number | null>;
}

const started: ChildProcessWithoutNullStreams[] = [];

function bootstrap(): Bootstrapped {
  const child = spawn('sh', ['-c', BOOTSTRAP], { detached: true });
  started.push(child);
  const out: string[] = [];
  const err: string[] = [];
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  const feed = (into: string[]) => {
    let partial = '';
    return (d: Buffer) => {
      const parts = (partial + d.toString()).split('\n');
      partial = parts.pop()!;
      for (const l of parts) {
        into.push(l);
        for (const w of waiters.filter((x) => x.re.test(l))) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(l);
        }
      }
    };
  };
  child.stdout.on('data', feed(out));
  child.stderr.on('data', feed(err));
  const exited = new Promise<number | null>((r) => child.once('close', r));
  return {
    child, out, err, exited,
    line: (re) => {
      const seen = [...out, ...err].find((l) => re.test(l));
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ re, resolve }));
    },
  };
}

describe('SSH: the scenario scripts (run by a real sh)', () => {
  let root: string;
  let exe: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'scenario-script-'));
    exe = join(root, 'wsems');
    await writeFile(exe, FAKE_EMS);
    await chmod(exe, 0o755);
  });
  afterEach(async () => {
    // A failed test must not leave its script (and fake EMS) running: their process group goes.
    for (const c of started.splice(0)) if (c.exitCode === null) try { process.kill(-c.pid!, 'SIGKILL'); } catch { /* gone */ }
    await rm(root, { recursive: true, force: true });
  });

  const files = (): StagedFile[] => [
    { name: 'chain-root.pem', content: Buffer.from('-----BEGIN CERTIFICATE-----\n'), secret: false },
    { name: 'client.key', content: Buffer.from('secret key bytes \u00e9\n'), secret: true },
    { name: 'config.json', content: Buffer.from('{"appKey":"k"}\n'), secret: true },
  ];

  it('process mode: uploads every file in one stream with its mode, starts the EMS, stops at EOF and removes the directory', async () => {
    const dir = join(root, 'runs', 's1');
    await mkdir(join(root, 'runs'));
    // The EMS's REST port: free now (the script refuses a busy one).
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise((r) => server.close(r));
    {
      const b = bootstrap();
      const f = files();
      b.child.stdin.write(shFrame(processScenarioScript({ WSEMS_TEST: 'x y' }), [NONCE, dir, exe, String(port), ...fileArgs(f)]));
      b.child.stdin.write(Buffer.concat(f.map((x) => x.content)));
      await b.line(new RegExp(`^${NONCE} started$`));
      await b.line(/^ems stderr line$/); // the EMS's stderr comes on stdout, in order
      assert.ok(b.out.includes(`ems starting -cfg ${dir}/config.json`));
      assert.equal((await stat(dir)).mode & 0o777, 0o700);
      assert.equal((await stat(join(dir, 'chain-root.pem'))).mode & 0o777, 0o644);
      assert.equal((await stat(join(dir, 'client.key'))).mode & 0o777, 0o600);
      assert.equal((await stat(join(dir, 'config.json'))).mode & 0o777, 0o600);
      assert.deepEqual(await readFile(join(dir, 'client.key')), f[1]!.content);
      assert.match(await readFile(join(dir, 'ems.pid'), 'utf8'), /^\d+\n$/);

      b.child.stdin.end(); // what sshd passes on when the harness stops it, drops or dies
      await b.line(/^ems stopping$/);
      assert.equal(await b.line(new RegExp(`^${NONCE} exit `)), `${NONCE} exit 0 -`);
      assert.match(await b.line(new RegExp(`^${NONCE} ports`)), new RegExp(`^${NONCE} ports( 0x[0-9A-F]+)*`));
      assert.equal(await b.exited, 0);
      assert.deepEqual(await readdir(join(root, 'runs')), [], 'the directory (keys, config.json) is gone');
      assert.deepEqual(b.err.filter((l) => !l.startsWith(NONCE)), [], b.err.join('\n'));
    }
  });

  it('process mode: an EMS that exits by itself is reported with its code, after all its output, and cleaned up at once', async () => {
    await writeFile(exe, '#!/bin/sh\necho "refusing: bad config"\nprintf "no newline at the end"\nexit 3\n');
    await mkdir(join(root, 'runs'));
    const dir = join(root, 'runs', 's2');
    const b = bootstrap();
    const f = files();
    b.child.stdin.write(shFrame(processScenarioScript({}), [NONCE, dir, exe, '1', ...fileArgs(f)]));
    b.child.stdin.write(Buffer.concat(f.map((x) => x.content)));
    assert.equal(await b.exited, 0);
    // The frame follows output that did not end its line: the channel's reader splits it off (scenario-channel.ts).
    assert.deepEqual(b.out, [`${NONCE} started`, 'refusing: bad config', `no newline at the end${NONCE} exit 3 -`]);
    assert.deepEqual(await readdir(join(root, 'runs')), []);
  });

  it('an upload cut short leaves no file behind and says why', async () => {
    await mkdir(join(root, 'runs'));
    const dir = join(root, 'runs', 's3');
    const b = bootstrap();
    const f = files();
    b.child.stdin.write(shFrame(processScenarioScript({}), [NONCE, dir, exe, '1', ...fileArgs(f)]));
    b.child.stdin.end(Buffer.concat(f.map((x) => x.content)).subarray(0, 35)); // the link drops in the middle of the second file
    assert.equal(await b.exited, 1);
    assert.match(b.err.join('\n'), /^harness: the upload of client\.key was cut short \(\d+ of \d+ bytes\): the link to the harness dropped$/m);
    assert.deepEqual(await readdir(join(root, 'runs')), [], 'nothing of the scenario stays');
    assert.ok(!b.out.some((l) => l.includes('started')), 'the EMS never started');
  });

  it('service mode (SysV): swaps config.json under the journal, follows the log from its end, reports an exit with how far the log grew, puts everything back at EOF', async () => {
    const install = join(root, 'install');
    await mkdir(join(install, 'run'), { recursive: true });
    await mkdir(join(root, 'runs'));
    const config = join(install, 'config.json');
    const backup = join(root, 'journal-0.orig');
    const log = join(install, 'wsems.log');
    await writeFile(config, '{"production":true}\n', { mode: 0o640 });
    await writeFile(backup, '{"production":true}\n');
    await writeFile(log, 'an old line of the production EMS\n');
    // An init script whose EMS logs its config and exits by itself once it sees a "stop me" file.
    const init = join(install, 'wsems.init');
    await writeFile(init, `#!/bin/sh
case "$1" in
  start) ( echo "service EMS on $(cat '${config}')"; while [ ! -e '${install}/exit-now' ]; do sleep 0.05; done; echo "service EMS exits" ) >>'${log}' 2>&1 </dev/null &
         echo $! > '${install}/run/pid' ;;
  stop) [ -f '${install}/run/pid' ] && kill "$(cat '${install}/run/pid')" 2>/dev/null; rm -f '${install}/run/pid'; exit 0 ;;
  status) [ -f '${install}/run/pid' ] && kill -0 "$(cat '${install}/run/pid')" 2>/dev/null ;;
esac
`);
    await chmod(init, 0o755);
    const dir = join(root, 'runs', 's4');
    const b = bootstrap();
    const f = files();
    b.child.stdin.write(shFrame(serviceScenarioScript(sysvCommands(init, log)), [NONCE, dir, config, backup, '640', '1', ...fileArgs(f)]));
    b.child.stdin.write(Buffer.concat(f.map((x) => x.content)));
    await b.line(new RegExp(`^${NONCE} started$`));
    assert.equal(await b.line(/^service EMS on/), 'service EMS on {"appKey":"k"}', 'the service runs on the scenario\'s config.json');
    assert.ok(!b.out.includes('an old line of the production EMS'), 'the log is followed from its end');
    await writeFile(join(install, 'exit-now'), '');
    const exit = await b.line(new RegExp(`^${NONCE} exit `));
    assert.match(exit, new RegExp(`^${NONCE} exit - - (\\d+)$`));
    const grown = Number(exit.split(' ').pop());
    assert.equal(grown, Buffer.byteLength('service EMS on {"appKey":"k"}\nservice EMS exits\n'));
    b.child.stdin.end();
    assert.equal(await b.exited, 0);
    assert.equal(await readFile(config, 'utf8'), '{"production":true}\n', 'the original config.json is back');
    assert.equal((await stat(config)).mode & 0o777, 0o640, 'with its mode');
    assert.deepEqual(await readdir(join(root, 'runs')), []);
  });

  it('follows a systemd unit from the journal cursor it reads first (fake journalctl; no systemd here)', async () => {
    const bin = join(root, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'journalctl'), `#!/bin/sh\ncase "$*" in *--show-cursor*) echo "last"; echo "-- cursor: s=abc;i=1" ;; *) echo "journalctl $*" ;; esac\n`);
    await chmod(join(bin, 'journalctl'), 0o755);
    const c = systemdCommands("wsems's.service");
    assert.equal(c.start, "systemctl start 'wsems'\\''s.service'");
    assert.equal(c.running, "systemctl is-active --quiet 'wsems'\\''s.service'");
    assert.equal(c.exitCode, "systemctl show -p ExecMainStatus --value 'wsems'\\''s.service'");
    assert.ok(typeof c.drain === 'object' && c.drain.lastLine.test("wsems's.service: Main process exited, code=exited, status=1/FAILURE"));
    const child = spawn('sh', ['-c', `${c.follow}\nwait "$follower"`], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    await new Promise((r) => child.once('close', r));
    assert.equal(out, "journalctl -u wsems's.service -f -o cat --no-pager --after-cursor=s=abc;i=1\n");
  });

  it('asks -encrypt for every secret in one script, from the install directory, each secret one argument', async () => {
    await writeFile(exe, '#!/bin/sh\n[ "$2" = bad ] && { echo "cannot encrypt" >&2; exit 2; }\necho "banner"\necho "ENC($2)@$(pwd)"\n');
    const b = bootstrap();
    b.child.stdin.end(shFrame(encryptAllScript({}), [NONCE, root, exe, "it's a secret", 'bad']));
    assert.equal(await b.exited, 0);
    assert.deepEqual(b.out, [`${NONCE} 0 ENC(it's a secret)@${root}`, `${NONCE} err `, `${NONCE} 2 `, `${NONCE} err cannot encrypt`]);
  });
});
