import { strict as assert } from 'node:assert';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { PassThrough } from 'node:stream';
import type { Spawned } from '../targets/ssh/connection.ts';
import { startDelayProxy } from '../targets/lab/delay-proxy.ts';
import { ScenarioChannel, type Drain } from '../targets/ssh/scenario-channel.ts';

// The harness's end of a scenario's channel (targets/ssh/scenario-channel.ts) against a fake
// channel the test writes to, and the delaying proxy of the lab bench (targets/lab/delay-proxy.ts).

const N = 'f00dfeedf00dfeed';

/** A stand-in for an ssh2 exec channel: stdout is the stream itself, stderr beside it, stdin collected. */
function fakeChannel() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const written: string[] = [];
  let exit!: (s: { code: number | null; signal: string | null }) => void;
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => (exit = r));
  let ended = false;
  const ch = {
    on: stdout.on.bind(stdout),
    once: stdout.once.bind(stdout),
    stderr,
    exited,
    write: (d: string) => (written.push(String(d)), true),
    end: () => ((ended = true), ch),
    get writableEnded() {
      return ended;
    },
  } as unknown as Spawned;
  return { ch, stdout, stderr, written, exit, ended: () => ended };
}

function channel(drain: Drain, output?: string) {
  const f = fakeChannel();
  let ports: number[] = [];
  const ems = new ScenarioChannel(f.ch, N, drain, {
    lost: () => undefined,
    ports: (p) => (ports = p),
  }, output);
  const lines: string[] = [];
  const streams: Array<string | undefined> = [];
  const exits: Array<{ code: number | null; signal: string | null }> = [];
  ems.onLine((l) => (lines.push(l.text), streams.push(l.stream)));
  ems.onExit((e) => exits.push({ code: e.code, signal: e.signal }));
  return { ...f, ems, lines, streams, exits, ports: () => ports };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('SSH: the scenario channel', () => {
  it('process mode: EMS lines in order, CRLF-safe; the exit frame after them, even after a line without its newline', async () => {
    const c = channel('ordered');
    c.stdout.write(`${N} started\n`);
    await c.ems.started;
    c.stdout.write('line one\r\nline t');
    c.stdout.write(`wo\npartial${N} exit 3 -\n`);
    await tick();
    assert.deepEqual(c.lines, ['line one', 'line two', 'partial']);
    assert.deepEqual(c.exits, [{ code: 3, signal: null }]);
  });

  it('service mode: the exit waits until the log has grown as far as the gateway said', async () => {
    const c = channel('grown');
    c.stderr.write(`${N} started\n`);
    c.stdout.write('first\n'); // 6 bytes
    c.stderr.write(`${N} exit 1 - 13\n`);
    await tick();
    assert.deepEqual(c.exits, [], 'seven bytes of the log are still on their way');
    c.stdout.write('second\n');
    await tick();
    assert.deepEqual(c.lines, ['first', 'second']);
    assert.deepEqual(c.exits, [{ code: 1, signal: null }]);
  });

  it("systemd: the exit waits for the manager's own last line about the unit", async () => {
    const c = channel({ lastLine: /Main process exited/ });
    c.stderr.write(`${N} started\n${N} exit 1 - -\n`);
    c.stdout.write('EMS: TW_VALIDATE_CERT: rejected\n');
    await tick();
    assert.deepEqual(c.exits, [], "systemd's own line has not come yet");
    c.stdout.write('wsems.service: Main process exited, code=exited, status=1/FAILURE\n');
    await tick();
    assert.deepEqual(c.exits, [{ code: 1, signal: null }]);
    const stopped = channel({ lastLine: /Main process exited/ });
    stopped.stderr.write(`${N} started\n${N} exit - -\n`);
    await tick();
    assert.equal(stopped.exits.length, 1, 'stopped by the harness (nothing to wait for): reported at once');
  });

  it('names the stream of every line for SECRET-NOLOG: the EMS output as the launcher calls it, the script\'s own as stderr', async () => {
    const c = channel('grown', 'service log');
    c.stderr.write(`${N} started\n`);
    c.stdout.write('EMS: connecting\n');
    c.stderr.write('harness: cannot stop wsems\n');
    await tick();
    assert.deepEqual(c.lines, ['EMS: connecting', 'harness: cannot stop wsems']);
    assert.deepEqual(c.streams, ['service log', 'stderr']);
    assert.deepEqual(c.written, [], 'nothing is written to the channel but EOF: the REST check dials through the connection');
  });

  it('lines from the script itself are infrastructure; a script that ends before the EMS started rejects start with them', async () => {
    const c = channel('ordered');
    c.stderr.write('harness: the upload of client.key was cut short (12 of 40 bytes): the link to the harness dropped\n');
    c.stderr.write('mkdir: cannot create directory\n');
    c.stdout.end();
    c.stderr.end();
    await tick();
    c.exit({ code: 1, signal: null });
    await assert.rejects(c.ems.started, /the upload of client\.key was cut short .* \| mkdir: cannot create directory/);
    assert.deepEqual(c.lines, ['harness: the upload of client.key was cut short (12 of 40 bytes): the link to the harness dropped', 'harness: mkdir: cannot create directory']);
    assert.equal(c.exits.length, 1);
  });

  it('stop() ends the input and resolves at the exit; the ports the script reports at the end are kept', async () => {
    const c = channel('ordered');
    c.stdout.write(`${N} started\n`);
    const stopped = c.ems.stop();
    assert.ok(c.ended());
    c.stdout.write(`${N} exit - SIGTERM\n`);
    await stopped;
    assert.deepEqual(c.exits, [{ code: null, signal: 'SIGTERM' }]);
    c.stderr.write(`${N} ports 0x16 0x1F40 8080\n`);
    await tick();
    assert.deepEqual(c.ports(), [22, 8000, 8080]);
  });
});

describe('the lab delay proxy', () => {
  let echo: Server;
  let port: number;
  before(async () => {
    echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    port = (echo.address() as AddressInfo).port;
  });
  after(() => new Promise((r) => echo.close(r)));

  async function roundTrip(proxyPort: number, chunks: string[]): Promise<string> {
    const s = connect(proxyPort, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    const total = chunks.join('').length;
    let reply = '';
    const done = new Promise<void>((r) => s.on('data', (d) => ((reply += d), reply.length >= total && r())));
    for (const c of chunks) s.write(c);
    await done;
    s.destroy();
    return reply;
  }

  it("carries bytes both ways, in order, through its delay (how long it takes is the bench's to measure)", async () => {
    const p = await startDelayProxy({ to: { host: '127.0.0.1', port }, rttMs: 40 });
    try {
      const chunks = Array.from({ length: 20 }, (_, i) => `${i}:${'x'.repeat(i * 7)};`);
      assert.equal(await roundTrip(p.port, chunks), chunks.join(''));
      assert.equal(p.bytesUp, chunks.join('').length);
    } finally {
      await p.close();
    }
  });

  it('cuts every connection once a given number of bytes went towards the target, passing only those', async () => {
    const received: Buffer[] = [];
    const sink = createServer((s) => s.on('data', (d) => received.push(d)).on('error', () => undefined));
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    const p = await startDelayProxy({ to: { host: '127.0.0.1', port: (sink.address() as AddressInfo).port }, rttMs: 0 });
    try {
      const s = connect(p.port, '127.0.0.1');
      await new Promise((r) => s.once('connect', r));
      const closed = new Promise((r) => s.once('close', r));
      s.on('error', () => undefined);
      const cut = p.cutAfter(100);
      s.write(Buffer.alloc(300, 1));
      await cut;
      await closed;
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(Buffer.concat(received).length, 100);
    } finally {
      await p.close();
      sink.close();
    }
  });
});
