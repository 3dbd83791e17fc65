import { strict as assert } from 'node:assert';
import { execa } from 'execa';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AllureGenerator } from '../harness/report/allure-generate.ts';

// The Allure report engine in its own process, started ahead of the work (a real Allure 3 run).

const MODULE = fileURLToPath(new URL('../harness/report/allure-generate.ts', import.meta.url));

describe('Allure report generator', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'allure-generate-'));
    await mkdir(join(dir, 'results'));
    for (const [uuid, status] of [['a1', 'passed'], ['b2', 'failed']] as const) {
      await writeFile(join(dir, 'results', `${uuid}-result.json`), JSON.stringify({
        uuid, historyId: uuid, name: `case ${uuid}`, fullName: `family case ${uuid}`, status, stage: 'finished', start: 1, stop: 2,
        labels: [{ name: 'epic', value: 'certificates' }, { name: 'feature', value: 'CERT-VALIDATE' }],
        steps: [], attachments: [], parameters: [], links: [],
      }));
    }
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('started ahead, writes one self-contained index.html with the results and the categories in allure-results', async () => {
    const generator = new AllureGenerator();
    const index = await generator.generate({ resultsDir: join(dir, 'results'), outputDir: join(dir, 'report'), name: 'unit run' });
    assert.equal(index, join(dir, 'report', 'index.html'));
    const html = await readFile(index, 'utf8');
    assert.match(html, /"data\/test-results\/[^"]+\.json","[A-Za-z0-9+/=]+"/, 'the data files are embedded');
    assert.ok(!(await readdir(join(dir, 'report'))).includes('data'), 'no separate data directory');
    const names = JSON.parse(await readFile(join(dir, 'results', 'categories.json'), 'utf8')) as Array<{ name: string }>;
    assert.deepEqual(names.map((c) => c.name), ['Infrastructure problems (broken: not the product)', 'Conformance failures (the EMS deviates)']);
  });

  it('begun ahead, reads the results it is handed as they are written; a rewritten result is read again when asked', async () => {
    const generator = new AllureGenerator();
    const o = { resultsDir: join(dir, 'results'), outputDir: join(dir, 'report'), name: 'unit run' };
    generator.begin(o);
    for (const f of ['a1-result.json', 'b2-result.json']) generator.add(join(dir, 'results', f));
    const names = async () => [...embedded(await readFile(join(dir, 'report', 'index.html'), 'utf8'))]
      .filter(([file]) => file.startsWith('data/test-results/')).map(([, data]) => (JSON.parse(data) as { name: string }).name).sort();
    await generator.generate(o);
    assert.deepEqual(await names(), ['case a1', 'case b2']);

    // The report step's backstop rewrote a file after it was read: reread makes the report from the directory again.
    const again = new AllureGenerator();
    again.begin(o);
    again.add(join(dir, 'results', 'a1-result.json'));
    const a1 = JSON.parse(await readFile(join(dir, 'results', 'a1-result.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(dir, 'results', 'a1-result.json'), JSON.stringify({ ...a1, name: 'case a1 (rewritten)' }));
    await again.generate(o, { reread: true });
    assert.deepEqual(await names(), ['case a1 (rewritten)', 'case b2']);
  });

  it('a report it cannot make is an error naming the generator and what it said', async () => {
    // A history file under a plain file: Allure cannot read or write it.
    const history = join(dir, 'results', 'a1-result.json', 'history.jsonl');
    await assert.rejects(
      new AllureGenerator().generate({ resultsDir: join(dir, 'results'), outputDir: join(dir, 'report'), name: 'unit run', history }),
      /^Error: the Allure report generator exited with 1: .*ENOTDIR/s,
    );
  });

  it('loads in the background: every thread of it at this process\'s priority + 10 (Linux: a priority is a thread\'s)', async function () {
    if (process.platform !== 'linux') this.skip();
    const generator = new AllureGenerator();
    try {
      const pid = generator.pid!;
      // Node starts its helper threads while it boots: look once they are there (the same set three looks in a row).
      let tids: string[] = [];
      for (let same = 0; same < 3; ) {
        await new Promise((r) => setTimeout(r, 50));
        const now = await readdir(`/proc/${pid}/task`);
        same = now.length > 1 && now.join() === tids.join() ? same + 1 : 0;
        tids = now;
      }
      const nice = await Promise.all(tids.map(async (t) => Number((await readFile(`/proc/${pid}/task/${t}/stat`, 'utf8')).split(') ')[1]!.split(' ')[16])));
      assert.deepEqual(new Set(nice), new Set([Math.min(19, getPriority() + 10)]), `threads' nice values: ${nice.join(', ')}`);
    } finally {
      await generator.generate({ resultsDir: join(dir, 'results'), outputDir: join(dir, 'report'), name: 'unit run' });
    }
  });

  it('one never handed work neither holds up the end of the process that started it nor outlives it', async () => {
    // The parent ending at all is the first half (it would hang otherwise; the test's timeout bounds that).
    const r = await execa(process.execPath, ['--import', 'tsx', '--input-type=module', '-e',
      `const { AllureGenerator } = await import(${JSON.stringify(MODULE)}); const g = new AllureGenerator(); console.log(g.pid);`]);
    const pid = Number(r.stdout.trim());
    assert.ok(pid > 0);
    // Its stdin closed with its parent: it ends by itself (it may still be loading Allure, for as
    // long as a loaded machine takes: no deadline of our own, the test's timeout says it never did).
    // The same pid with another start time is another process: the generator is gone.
    const isWorker = await readFile(`/proc/${pid}/cmdline`, 'utf8').then((c) => c.includes('allure-worker'), () => false);
    const started = isWorker ? await startTime(pid) : undefined;
    while (started !== undefined && (await startTime(pid)) === started) await new Promise((resolve) => setTimeout(resolve, 50));
  });
});

/** The data files a single-file Allure report embeds, by name, decoded. */
function embedded(html: string): Map<string, string> {
  return new Map([...html.matchAll(/"(data\/[^"]+)","([A-Za-z0-9+/=]+)"/g)].map((m) => [m[1]!, Buffer.from(m[2]!, 'base64').toString('utf8')]));
}

/** A process's start time (/proc/PID/stat field 22), or undefined once it is gone (a zombie counts as gone). */
async function startTime(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return stat && fields[0] !== 'Z' ? fields[19] : undefined;
}
