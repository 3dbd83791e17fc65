import { strict as assert } from 'node:assert';
import { renderConfig } from '../harness/ems/render.ts';
import { loadCatalogue } from '../harness/pki/build.ts';
import type { Catalogue } from '../harness/pki/catalogue.ts';
import { REDACTED, Redactor } from '../harness/report/redact.ts';
import { family } from '../harness/scenario/model.ts';
import type { Target, TargetSession } from '../harness/scenario/target.ts';
import { DEFAULT_INVENTORY, loadTargets } from '../targets/inventory.ts';

// http_server rendered from a local-server scenario: files placed on the target, the passphrase and
// the password asked of the target's own `wsems -encrypt`, both registered for redaction in clear
// and encrypted, collected with the app key (Rendered.secrets, what SECRET-NOLOG searches the EMS's
// log for), and the clear credentials handed to the LSR client only.

describe('rendering http_server', function () {
  this.timeout(30_000);
  let catalogue: Catalogue;
  let simulator: Target;
  before(async () => {
    catalogue = await loadCatalogue();
    [simulator] = (await loadTargets(DEFAULT_INVENTORY, ['simulator'])) as [Target];
  });

  it('encrypts passphrase and password on the target, redacts both forms, collects the clear ones with the app key', async () => {
    const [s] = family('t', { link: 'local-server' }, [{
      id: 't.case', title: 't', requirements: ['LSR-AUTH'], expect: { outcome: 'rejects-unauthenticated' },
      ems: { http_server: {
        host: 'localhost', ssl: true, certificate: { file: 'local-server-chain.pem' }, private_key: { file: 'local-server.enc.pem' },
        passphrase: { secret: 'lsr-key-pass', encrypt: true }, authenticate: true, user: 'lsr', password: { secret: 'lsr-password', encrypt: true },
      } },
    }]).scenarios;
    const session = await simulator.openSession('t.case');
    const asked: string[] = [];
    const counting: TargetSession = {
      dir: session.dir, dialRoute: session.dialRoute,
      putFile: (n, c, o) => session.putFile(n, c, o), restPort: (h) => session.restPort(h), start: (j) => session.start(j),
      dial: (h, p) => session.dial(h, p), close: () => session.close(),
      encrypt: (v) => (asked.push(v), session.encrypt(v)),
    };
    const redactor = new Redactor();
    try {
      const r = await renderConfig({ scenario: s!, target: simulator, session: counting, catalogue, endpointPort: 20001, appKey: 'app-key-0123456789', redactor });
      const http = r.config['http_server'] as Record<string, string | number | boolean>;
      const { 'lsr-key-pass': passphrase, 'lsr-password': password } = catalogue.secrets as Record<string, string>;
      // Each asked twice: SECRET-ENCRYPT's strength check records whether two encryptions are equal.
      assert.deepEqual(asked, [password, password, passphrase, passphrase], '-encrypt asked of the target for both');
      assert.deepEqual(r.encryptions.map((e) => e.kind), ['http_server password', 'http_server passphrase']);
      assert.notEqual(http.password, password);
      assert.notEqual(http.passphrase, passphrase);
      assert.match(String(http.certificate), /\/local-server-chain\.pem$/);
      assert.deepEqual(r.secrets.map((x) => x.value).sort(), ['app-key-0123456789', passphrase!, password!].sort());
      assert.deepEqual(r.rest, { host: '::1', name: 'localhost', port: http.port, ssl: true, authenticate: true, credentials: { user: 'lsr', password } });
      for (const v of [passphrase!, password!, String(http.passphrase), String(http.password)]) assert.equal(redactor.text(`x ${v} y`), `x ${REDACTED} y`);
      assert.doesNotMatch(JSON.stringify(redactor.value(r.config)), new RegExp(`${password}|${passphrase}`));
    } finally {
      await session.close();
    }
  });
});
