import { strict as assert } from 'node:assert';
import { warningsIn } from '../harness/ems/warnings.ts';
import type { LocalServerEvidence } from '../harness/lsr/probe.ts';
import { loadCatalogue } from '../harness/pki/build.ts';
import type { Catalogue } from '../harness/pki/catalogue.ts';
import { Redactor } from '../harness/report/redact.ts';
import { family, type ScenarioInput } from '../harness/scenario/model.ts';
import { runScenario, type ScenarioResult } from '../harness/scenario/run.ts';
import type { Target } from '../harness/scenario/target.ts';
import { DEFAULT_INVENTORY, loadTargets } from '../targets/inventory.ts';
import localServer from '../scenarios/local-server.ts';

// The simulator's local server as the vendor documents http_server, seen by the harness's real
// TLS/HTTP client (the LSR) through the real run loop: what it says when it cannot start (one line
// naming the field, exit 1), its warnings in both the inventory's and the harness's default
// matching, TLS per build flavour, and the REST check over TLS with basic auth.

const scenario = (id: string) => localServer.scenarios.find((s) => s.id === id)!;
const own = (over: Partial<ScenarioInput>) =>
  family('t', { link: 'local-server' }, [{ id: 'sim.case', title: 't', requirements: ['LSR-TLS'], ems: { certificates: { validate: false } }, ...over } as ScenarioInput]).scenarios[0]!;

describe('the simulator\'s local server, as the LSR sees it', function () {
  this.timeout(60_000);
  let catalogue: Catalogue;
  let targets: Record<string, Target>;
  before(async () => {
    catalogue = await loadCatalogue();
    targets = Object.fromEntries((await loadTargets(DEFAULT_INVENTORY)).map((t) => [t.id, t]));
  });
  const run = (s: ReturnType<typeof scenario>, target = 'simulator'): Promise<ScenarioResult> =>
    runScenario('local-server', s, targets[target]!, { catalogue, redactor: new Redactor() });
  const line = (r: ScenarioResult, re: RegExp) => r.actual.evidence.emsLog.find((l) => re.test(l));

  it('cannot start: one line naming the field and why, exit 1, no connection to the platform', async () => {
    const cases: Array<[string, RegExp, string]> = [
      ['lsr.tls.wrong-passphrase', /wsems: http_server\.private_key: cannot load private key \S+local-server\.enc\.pem: wrong http_server\.passphrase \(bad decrypt\)/, 'key-load-error'],
      ['lsr.tls.no-passphrase', /wsems: http_server\.private_key: .*: the key is encrypted and http_server\.passphrase is not set/, 'key-load-error'],
      ['lsr.tls.key-mismatch', /wsems: http_server\.private_key: \S+leaf-valid\.key does not match the first certificate of http_server\.certificate .*key values mismatch/, 'key-load-error'],
      ['lsr.tls.intermediate-first', /does not match the first certificate of http_server\.certificate \S+local-server-chain-intermediate-first\.pem/, 'key-load-error'],
      ['lsr.tls.certificate-missing', /wsems: http_server\.certificate: cannot load certificate \S+: ENOENT/, 'key-load-error'],
      ['lsr.tls.nothing-configured', /wsems: configuration error: .*http_server: ssl is true but certificate \/ private_key are not set/, 'config-error'],
    ];
    for (const [id, text, cls] of cases) {
      const r = await run(scenario(id));
      assert.equal(r.status, 'passed', `${id}: ${r.message}`);
      assert.ok(line(r, text), `${id}: ${r.actual.evidence.emsLog.join('\n')}`);
      assert.equal(r.actual.class, cls, id);
      assert.equal(r.actual.evidence.exit?.code, 1, id);
      assert.ok(!r.actual.evidence.observations.some((o) => o.kind === 'tcp-accepted'), `${id}: the platform saw nothing`);
    }
  });

  it('authenticate without user or password does not start either (configuration error)', async () => {
    const r = await run(own({ requirements: ['LSR-AUTH'], ems: { certificates: { validate: false }, http_server: { authenticate: true, user: 'lsr' } }, expect: { outcome: 'refuses-to-start', class: 'config-error' } }));
    assert.equal(r.status, 'passed', r.message);
    assert.ok(line(r, /http_server: authenticate is true but user \/ password are not set/));
  });

  it('warns about each insecure setting in words both its inventory warningMap and the harness\'s default map know', async () => {
    const r = await run(scenario('lsr.example.no-security'));
    assert.equal(r.status, 'passed', r.message);
    const logged = (r.actual.evidence.localServer as LocalServerEvidence).warnings.logged;
    assert.deepEqual(logged.map((w) => w.warning).sort(), ['authenticate-off', 'self-signed-allowed', 'ssl-off', 'validate-off']);
    const raw = logged.map((w) => w.line);
    assert.ok(raw.every((l) => l.startsWith('[WARN ]')), 'at the WARN level');
    assert.deepEqual(warningsIn(raw).logged.map((w) => w.warning).sort(), ['authenticate-off', 'self-signed-allowed', 'ssl-off', 'validate-off'], 'the default map alone');
    const high = await run(scenario('lsr.example.high'));
    assert.equal(high.status, 'passed', high.message);
    assert.deepEqual((high.actual.evidence.localServer as LocalServerEvidence).warnings, { logged: [], otherWarnLines: [] });
  });

  it('serves TLS with its build\'s library: TLS 1.3 on OpenSSL builds, TLS 1.2 with RSA key exchange on axTLS; the chain in file order on each', async () => {
    for (const [target, protocol, cipher] of [['simulator', 'TLSv1.3', /^TLS_/], ['simulator-csdk221', 'TLSv1.3', /^TLS_/], ['simulator-axtls', 'TLSv1.2', /^AES(128|256)-SHA/]] as const) {
      const r = await run(scenario('lsr.auth.over-tls'), target);
      assert.equal(r.status, 'passed', `${target}: ${r.message}`);
      const hs = (r.actual.evidence.localServer as LocalServerEvidence).handshakes[0]!;
      assert.ok(hs.ok);
      assert.equal(hs.protocol, protocol, target);
      assert.match(hs.cipher, cipher, target);
      assert.deepEqual(hs.chain.map((c) => c.name), ['leaf-local-server', 'local-server-ca'], target);
      assert.equal(r.actual.evidence.restConnected, true, `${target}: the REST check got through TLS and basic auth`);
    }
  });

  it('records how the LSR reached it: a connection on this host, to the address rendered', async () => {
    const r = await run(scenario('lsr.host.localhost'));
    assert.equal(r.status, 'passed', r.message);
    const lsr = r.actual.evidence.localServer as LocalServerEvidence;
    assert.match(lsr.route, /harness host/);
    assert.deepEqual({ ...lsr.address, port: 0 }, { name: 'localhost', host: '::1', port: 0 });
  });
});
