import { strict as assert } from 'node:assert';
import { execa } from 'execa';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { loadCatalogue } from '../harness/pki/build.ts';
import { REDACTED, Redactor } from '../harness/report/redact.ts';
import { reportRedactor } from '../harness/report/write.ts';
import { DEFAULT_INVENTORY, inventorySecrets } from '../targets/inventory.ts';

// The main job, end to end, on the families that handle secrets (secrets, client certificates,
// the local server's passphrase and password): every secret the EMS was handed — app keys (random
// per scenario), catalogue passphrases, the local server's password and their `-encrypt` forms — is
// recorded on the way in, then every file the job wrote under its reports directory is searched
// for them. Zero hits, and every artifact is there.

const CLI = fileURLToPath(new URL('../harness/cli.ts', import.meta.url));
const FAMILIES = ['secret.', 'client.', 'lsr.'];

/** Records what the harness hands the EMS, then runs the real simulator (exec: same pid). */
const CAPTURING_WSEMS = `#!/bin/sh
if [ "$1" = "-encrypt" ]; then
  out=$("$REAL_WSEMS" "$@") || exit $?
  printf '%s\\n%s\\n' "$2" "$out" >> "$CAPTURE/encrypt.txt"
  printf '%s\\n' "$out"
  exit 0
fi
[ "$1" = "-cfg" ] && cp "$2" "$CAPTURE/config-$$.json"
exec "$REAL_WSEMS" "$@"
`;

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('the main job on the secret-handling families', function () {
  this.timeout(180_000);
  let dir: string;
  let reports: string;
  let capture: string;
  let run: { exitCode?: number; all?: string };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'redaction-test-'));
    reports = join(dir, 'reports');
    capture = join(dir, 'capture');
    await mkdir(capture);
    const wsems = join(dir, 'wsems');
    await writeFile(wsems, CAPTURING_WSEMS);
    await chmod(wsems, 0o755);
    // The default inventory's simulator, its executable swapped for the recording one.
    const inv = parseYaml(await readFile(DEFAULT_INVENTORY, 'utf8')) as { targets: Array<Record<string, unknown>> };
    const sim = inv.targets.find((t) => t.id === 'simulator')!;
    sim.env = { CAPTURE: capture, REAL_WSEMS: resolve(dirname(DEFAULT_INVENTORY), sim.executable as string) };
    sim.executable = wsems;
    await writeFile(join(dir, 'inventory.yaml'), toYaml({ targets: [sim] }));
    run = await execa(process.execPath, ['--import', 'tsx', CLI, 'run', '--inventory', join(dir, 'inventory.yaml'), '--reports', reports, '--scenario', ...FAMILIES], { reject: false, all: true });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('passes and writes every artifact', async () => {
    assert.equal(run.exitCode, 0, run.all);
    const files = (await filesUnder(reports)).map((f) => relative(reports, f));
    for (const f of ['results.json', 'junit.xml', 'matrix.html', 'matrix.md', 'allure-report/index.html', 'allure-results/categories.json']) {
      assert.ok(files.includes(f), `reports/${f} missing`);
    }
    assert.ok(files.some((f) => /^allure-results\/.*-result\.json$/.test(f)));
    for (const f of ['results.json', 'junit.xml', 'matrix.html', 'matrix.md', 'allure-report/index.html']) assert.match(run.all!, new RegExp(`${reports}/${f}`), `where ${f} went is printed`);
  });

  it('no file under reports/ holds any secret the EMS was handed', async () => {
    const secrets = new Set<string>(Object.values((await loadCatalogue()).secrets));
    const configs = (await readdir(capture)).filter((f) => f.startsWith('config-'));
    let localServerSecrets = 0;
    assert.ok(configs.length >= 10, `only ${configs.length} EMS starts were recorded`);
    for (const f of configs) {
      const cfg = JSON.parse(await readFile(join(capture, f), 'utf8')) as { appKey: string; certificates?: { key_passphrase?: string }; http_server?: { passphrase?: string; password?: string } };
      secrets.add(cfg.appKey);
      for (const s of [cfg.certificates?.key_passphrase, cfg.http_server?.passphrase, cfg.http_server?.password]) if (s) secrets.add(s);
      if (cfg.http_server?.password) localServerSecrets++;
    }
    assert.ok(localServerSecrets >= 5, `only ${localServerSecrets} EMS starts had a local-server password`);
    const encrypt = (await readFile(join(capture, 'encrypt.txt'), 'utf8')).split('\n').filter(Boolean);
    assert.ok(encrypt.length >= 8, 'clear app keys and passphrases went through -encrypt, with their encrypted forms');
    encrypt.forEach((s) => secrets.add(s));

    const files = await filesUnder(reports);
    const hits: string[] = [];
    let redactedMarks = 0;
    for (const f of files) {
      const text = await artifactText(f);
      for (const s of secrets) if (text.includes(s)) hits.push(`${relative(reports, f)}: ${s.slice(0, 4)}…`);
      if (text.includes(REDACTED)) redactedMarks++;
    }
    assert.deepEqual(hits, []);
    // The search can see: the artifacts carry the evidence, with the secrets replaced in it.
    assert.ok(redactedMarks >= 5, `only ${redactedMarks} files show a redaction mark`);
    // The single-file Allure report embeds its data files base64-encoded: searched decoded, above.
    const embedded = allureReportData(await readFile(join(reports, 'allure-report', 'index.html'), 'utf8'));
    assert.ok(embedded.size >= 3 * 5, `the Allure report embeds only ${embedded.size} data files`);
    assert.match([...embedded.values()].join('\n'), /secret\.app-key-encrypted/);
  });

  it('Allure results carry the labels, links, parameters and evidence of each scenario', async () => {
    const results = await Promise.all((await filesUnder(join(reports, 'allure-results'))).filter((f) => f.endsWith('-result.json')).map(async (f) => JSON.parse(await readFile(f, 'utf8')) as {
      status: string; labels: Array<{ name: string; value: string }>; links: Array<{ type: string; url: string; name: string }>;
      parameters: Array<{ name: string; value: string }>; steps: Array<{ name: string }>;
    }));
    const r = results.find((x) => x.labels.some((l) => l.name === 'story' && l.value === 'secret.passphrase-encrypted.p12'))!;
    const labels = (name: string) => r.labels.filter((l) => l.name === name).map((l) => l.value).sort();
    assert.deepEqual(labels('epic'), ['client-certificates', 'secrets']);
    assert.deepEqual(labels('feature'), ['CERT-KEYFORMAT', 'SECRET-ENCRYPT']);
    assert.deepEqual(r.links.filter((l) => l.type === 'tms').map((l) => l.url).sort(), ['../matrix.html#req-CERT-KEYFORMAT', '../matrix.html#req-SECRET-ENCRYPT']);
    assert.deepEqual(r.parameters.map((p) => `${p.name}=${p.value}`), ['target=simulator', 'flavour=openssl']);
    assert.deepEqual(r.steps.map((s) => s.name), ['config.json (redacted)', 'endpoint observations', 'EMS log']);
    assert.equal(r.status, 'passed');
    const categories = JSON.parse(await readFile(join(reports, 'allure-results', 'categories.json'), 'utf8')) as Array<{ matchedStatuses: string[] }>;
    assert.deepEqual(categories.map((c) => c.matchedStatuses), [['broken'], ['failed']]);
  });
});

describe('the report step\'s redactor', () => {
  it('knows the SSH password and key passphrase the inventory points at, and the catalogue passphrases', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'redactor-inventory-'));
    try {
      const gateway = (id: string, auth: object) => ({ id, kind: 'ssh-linux', address: 'gw.lab.example', user: 'qa', auth, platform: { tunnel: 'reverse' }, ems: { installDir: '/opt/ems' }, flavour: 'openssl' });
      await writeFile(join(dir, 'inventory.yaml'), toYaml({ targets: [gateway('gw-a', { passwordEnv: 'REDACTION_TEST_PW' }), gateway('gw-b', { keyFile: 'id_ed25519', passphraseEnv: 'REDACTION_TEST_PASS' })] }));
      Object.assign(process.env, { REDACTION_TEST_PW: 'ssh-password-4711', REDACTION_TEST_PASS: 'key-passphrase-0815' });
      const [catalogueSecret] = Object.values((await loadCatalogue()).secrets) as [string];
      const r = await reportRedactor(await inventorySecrets(join(dir, 'inventory.yaml')));
      assert.equal(r.text(`pw ssh-password-4711, pass key-passphrase-0815, p12 ${catalogueSecret}`), `pw ${REDACTED}, pass ${REDACTED}, p12 ${REDACTED}`);
      assert.equal((await reportRedactor(await inventorySecrets(join(dir, 'gone.yaml')))).text(catalogueSecret), REDACTED, 'a saved run whose inventory is gone still gets the rest');
    } finally {
      delete process.env.REDACTION_TEST_PW;
      delete process.env.REDACTION_TEST_PASS;
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('replaces secret fields whatever their value, even one nobody registered', () => {
    const out = new Redactor().value({ appKey: 'abc', headers: { appkey: 'x-unregistered-key' }, certificates: { key_passphrase: 'wrong', cert_chain: '/s/chain.pem' }, ssh: { password: 'pw', privateKey: 'k' } });
    assert.deepEqual(out, { appKey: REDACTED, headers: { appkey: REDACTED }, certificates: { key_passphrase: REDACTED, cert_chain: '/s/chain.pem' }, ssh: { password: REDACTED, privateKey: REDACTED } });
  });
});

/** A file as text, and for the single-file Allure report its embedded data files decoded too. */
async function artifactText(file: string): Promise<string> {
  const text = Buffer.from(await readFile(file)).toString('utf8');
  return file.endsWith('/allure-report/index.html') ? [text, ...allureReportData(text).values()].join('\n') : text;
}

/** The data files a single-file Allure 3 report embeds, by name ("data/test-results/….json"), decoded. */
function allureReportData(html: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const m of html.matchAll(/"(data\/[^"]+)","([A-Za-z0-9+/=]+)"/g)) files.set(m[1]!, Buffer.from(m[2]!, 'base64').toString('utf8'));
  return files;
}
