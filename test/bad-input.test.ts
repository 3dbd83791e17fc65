import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:net';
import { loadCatalogue } from '../harness/pki/build.ts';
import type { Catalogue } from '../harness/pki/catalogue.ts';
import { Redactor } from '../harness/report/redact.ts';
import { family } from '../harness/scenario/model.ts';
import { runScenario } from '../harness/scenario/run.ts';
import { DEFAULT_INVENTORY, loadTargets } from '../targets/inventory.ts';
import { LocalTarget } from '../targets/local.ts';
import type { Target, TargetSession } from '../harness/scenario/target.ts';

// Bad input ends as a BROKEN result that names the scenario and the field or cause, never as a
// pass, a refusal or a hang; the real simulator and endpoint run underneath.

const scenario = (over: object) =>
  family('bad-input', {}, [{ id: 'bad.case', title: 't', requirements: ['BASE-SANITY'], expect: { outcome: 'connects' }, ems: { certificates: { validate: false } }, ...over }]).scenarios[0]!;

describe('bad input', function () {
  this.timeout(30_000);
  let catalogue: Catalogue;
  let simulator: Target;
  before(async () => {
    catalogue = await loadCatalogue();
    [simulator] = await loadTargets(DEFAULT_INVENTORY, ['simulator']) as [Target];
  });
  const ctx = () => ({ catalogue, redactor: new Redactor() });

  it('a missing EMS executable is broken, naming it', async () => {
    const target = new LocalTarget({ id: 'nowhere', executable: '/nonexistent/wsems', profile: simulator.profile });
    const r = await runScenario('bad-input', scenario({}), target, ctx());
    assert.equal(r.status, 'broken');
    assert.match(r.message!, /cannot start the EMS: .*\/nonexistent\/wsems/);
  });

  it('config overrides that do not fit config.json are broken, naming the scenario and field', async () => {
    const r = await runScenario('bad-input', scenario({ ems: { extra: { ws_connection: { connect_timeout: 'soon' } } } }), simulator, ctx());
    assert.equal(r.status, 'broken');
    assert.match(r.message!, /scenario bad\.case: rendered config\.json: ws_connection\.connect_timeout: /);
  });

  it('an unknown catalogue name is broken, naming the field', async () => {
    const r = await runScenario('bad-input', scenario({ ems: { certificates: { validate: true, cert_chain: { file: 'no-such.pem' } } } }), simulator, ctx());
    assert.equal(r.status, 'broken');
    assert.match(r.message!, /scenario bad\.case: ems\.certificates\.cert_chain: unknown catalogue file "no-such\.pem"/);
    const e = await runScenario('bad-input', scenario({ endpoint: { cert: 'no-such-cert' } }), simulator, ctx());
    assert.match(e.message!, /endpoint\.cert: unknown certificate "no-such-cert"/);
  });

  it('an http_server file that is not in the catalogue is broken, naming the field', async () => {
    const r = await runScenario('bad-input', scenario({
      link: 'local-server', expect: { outcome: 'serves-tls', chain: ['leaf-local-server'] },
      ems: { certificates: { validate: false }, http_server: { ssl: true, certificate: { file: 'no-such.pem' }, private_key: { key: 'leaf-local-server' } } },
    }), simulator, ctx());
    assert.equal(r.status, 'broken');
    assert.match(r.message!, /scenario bad\.case: ems\.http_server\.certificate: unknown catalogue file "no-such\.pem"/);
  });

  describe('a REST port already in use', () => {
    let busy: Server;
    before((done) => { busy = createServer().listen(0, '127.0.0.1', done); });
    after((done) => { busy.close(() => done()); });

    it('is broken (infrastructure), not a refusal; for a local-server scenario too, never a failure of the EMS', async () => {
      const port = (busy.address() as { port: number }).port;
      // A target whose sessions hand out the busy port: the seam is the port, the EMS is real.
      const target: Target = Object.create(simulator, {
        openSession: {
          value: async (id: string): Promise<TargetSession> => Object.assign(await simulator.openSession(id), { restPort: async () => port }),
        },
      });
      const lsr = {
        link: 'local-server', expect: { outcome: 'serves-tls', chain: ['leaf-local-server', 'local-server-ca'] },
        ems: { certificates: { validate: false }, http_server: { ssl: true, certificate: { file: 'local-server-chain.pem' }, private_key: { key: 'leaf-local-server' } } },
      };
      for (const s of [scenario({}), scenario(lsr)]) {
        const r = await runScenario('bad-input', s, target, ctx());
        assert.equal(r.status, 'broken', s.link);
        assert.match(r.message!, new RegExp(`http_server cannot listen on .*:${port}`));
        assert.equal(r.endedBy, 'evidence');
      }
    });
  });
});
