import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { askIsConnected, restEndpointOf } from '../harness/ems/rest-endpoint.ts';
import { judgeLocalServer } from '../harness/lsr/judge.ts';
import { probeLocalServer } from '../harness/lsr/probe.ts';
import { loadCatalogue } from '../harness/pki/build.ts';
import type { Catalogue } from '../harness/pki/catalogue.ts';
import { DialRefused, InfrastructureError } from '../harness/scenario/target.ts';
import type { SshConnection } from '../targets/ssh/connection.ts';
import { GatewaySession, type GatewayConfig, type GatewayTarget, type Launcher } from '../targets/ssh/gateway.ts';
import type { Journal } from '../targets/ssh/journal.ts';
import { SshLinuxTarget } from '../targets/ssh/linux.ts';
import { SshWindowsTarget } from '../targets/ssh/windows.ts';
import { asChannel } from './stream-channel.ts';

// On a gateway the EMS's local server listens on the gateway's own loopback; the LSR client
// reaches it through a direct-tcpip forward (ssh2 forwardOut) on the run's SSH connection, Linux
// and Windows drivers alike. Unit-tested here with a connection whose forwardOut opens the TCP
// connection on this host (what sshd does on the gateway) and hands back a plain Duplex, as ssh2
// does; a refusal comes back as ssh2 and connection.ts word it. The virtual lab runs the same
// family over real OpenSSH (test/lab-families.test.ts); no Windows machine is here.

const config = (windows: boolean): GatewayConfig => ({
  id: windows ? 'win' : 'gw',
  inventoryFile: 'inv.yaml',
  profile: { flavour: 'openssl', os: windows ? 'windows' : 'linux', capabilities: [], errorMap: [] },
  pathStyle: windows ? 'windows-escaped' : 'posix',
  platform: { tunnel: 'reverse' },
  ssh: { host: 'gw', port: 22, user: 'admin', auth: { describe: 'x' }, hostKeys: [], keepalive: { intervalMs: 1000, countMax: 3 }, connectTimeoutMs: 1000 },
  workDir: windows ? 'C:/ProgramData/wsems-conformance' : '/var/lib/wsems-conformance',
  installDir: windows ? 'C:/Program Files/ThingWorx/EMS' : '/opt/ems',
  executable: windows ? 'C:\\Program Files\\ThingWorx\\EMS\\wsems.exe' : '/opt/ems/bin/wsems',
  acceptNewHostKey: false,
});

/** An SSH connection whose forwardOut does what sshd does: connect() on "the gateway" (here), the stream as a channel. */
function fakeConnection(targetId: string, forwarded: string[]): SshConnection {
  return {
    forwardOut: (host: string, port: number) => new Promise<Duplex>((resolve, reject) => {
      forwarded.push(`${host}:${port}`);
      const socket = connect({ host, port });
      socket.once('error', (e: NodeJS.ErrnoException) =>
        reject(new InfrastructureError(`${targetId}: cannot open a connection to ${host}:${port} on the gateway: (SSH) Channel open failure: ${e.code === 'ECONNREFUSED' ? 'Connection refused' : e.message}`)));
      socket.once('connect', () => resolve(asChannel(socket)));
    }),
  } as unknown as SshConnection;
}

describe('gateways: the LSR client through an SSH forward', function () {
  this.timeout(30_000);
  let catalogue: Catalogue;
  let server: Server;
  let port: number;
  before(async () => {
    catalogue = await loadCatalogue();
    const leaf = catalogue.certs['leaf-local-server']!;
    const cert = (await readFile(leaf.certFile, 'utf8')) + (await readFile(catalogue.certs['local-server-ca']!.certFile, 'utf8'));
    server = createHttpsServer({ cert, key: await readFile(leaf.keyFile) }, (_req, res) => res.end(JSON.stringify({ rows: [{ isConnected: true }] })));
    await new Promise<void>((resolve) => server.listen(0, '::1', resolve));
    port = (server.address() as { port: number }).port;
  });
  after(() => server.close());

  for (const windows of [false, true]) {
    const kind = windows ? 'ssh-windows' : 'ssh-linux';
    it(`${kind}: dials the gateway's loopback through forwardOut, and the evidence says so`, async () => {
      const cfg = config(windows);
      const target: GatewayTarget = windows ? new SshWindowsTarget(cfg, { mode: 'scheduled-task' }) : new SshLinuxTarget(cfg, { mode: 'process', env: {} });
      const forwarded: string[] = [];
      const session = new GatewaySession(target, fakeConnection(cfg.id, forwarded), {} as Launcher, {} as Journal, cfg.workDir);
      assert.match(session.dialRoute, new RegExp(`^an SSH forward \\(forwardOut\\) through ${cfg.id}'s SSH connection`));

      const rest = restEndpointOf({ host: 'localhost', port, ssl: true, authenticate: false });
      assert.equal(await askIsConnected(await session.dial(rest.host, rest.port), rest), true, 'the REST check over the forward');
      const lsr = await probeLocalServer({
        parts: [{ outcome: 'serves-tls', chain: ['leaf-local-server', 'local-server-ca'], trust: 'chain-root.pem' }, { outcome: 'listens-only-on', family: 'IPv6', address: '::1' }],
        rest, session, catalogue, lines: () => [],
      });
      assert.equal(lsr.route, session.dialRoute);
      const j = judgeLocalServer([{ outcome: 'all-of', of: [{ outcome: 'serves-tls', chain: ['leaf-local-server', 'local-server-ca'], trust: 'chain-root.pem' }, { outcome: 'listens-only-on', family: 'IPv6', address: '::1' }] }],
        { verdict: 'CONNECTED', because: 'x' }, { observations: [], lines: [] }, lsr);
      assert.equal(j.status, 'passed', j.message);
      assert.ok(forwarded.every((f) => f.endsWith(`:${port}`)) && forwarded.includes(`::1:${port}`) && forwarded.includes(`127.0.0.2:${port}`), forwarded.join(' '));
      assert.deepEqual(lsr.listeners!.map((l) => l.listening), [true, false, false]);
      assert.match(lsr.listeners![1]!.error!, new RegExp(`nothing listens on 127\\.0\\.0\\.1:${port} on the gateway ${cfg.id}`));
    });
  }

  it('a refused forward is DialRefused (evidence); any other channel failure stays infrastructure', async () => {
    const cfg = config(true);
    const target = new SshWindowsTarget(cfg, { mode: 'scheduled-task' });
    const failing = (message: string) => ({ forwardOut: () => Promise.reject(new InfrastructureError(message)) }) as unknown as SshConnection;
    const refused = new GatewaySession(target, failing('win: cannot open a connection to ::1:8000 on the gateway: (SSH) Channel open failure: No connection could be made because the target machine actively refused it'), {} as Launcher, {} as Journal, cfg.workDir);
    await assert.rejects(refused.dial('::1', 8000), (e) => e instanceof DialRefused);
    const prohibited = new GatewaySession(target, failing('win: cannot open a connection to ::1:8000 on the gateway: (SSH) Channel open failure: administratively prohibited: open failed'), {} as Launcher, {} as Journal, cfg.workDir);
    await assert.rejects(prohibited.dial('::1', 8000), (e) => e instanceof InfrastructureError && !(e instanceof DialRefused));
  });
});
