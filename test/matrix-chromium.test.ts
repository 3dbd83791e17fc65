import { strict as assert } from 'node:assert';
import { execa } from 'execa';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redactor } from '../harness/report/redact.ts';
import { writeReports } from '../harness/report/write.ts';
import { fixtureDoc, fixtureExpectations } from './report-fixture.ts';

// matrix.html in a real browser: headless Chromium (Debian `chromium`, installed by .ci/run) opens
// the page with networking off, lays it out at phone and desktop width, and the test checks that
// the table rendered. The screenshots stay under reports/ for a human to look at.

const REPORTS = fileURLToPath(new URL('../reports/', import.meta.url));
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 1000 };

async function findChromium(): Promise<string> {
  const candidates = [process.env.CHROMIUM, 'chromium', 'chromium-browser', 'google-chrome'].filter((c): c is string => !!c);
  for (const c of candidates) {
    const r = await execa(c, ['--version'], { reject: false });
    if (r.exitCode === 0) return c;
  }
  throw new Error(`no Chromium found (tried ${candidates.join(', ')}): install it with \`apt-get install -y chromium\` (as .ci/run does) or set CHROMIUM to its path`);
}

/** One headless Chromium run with a throw-away profile and nothing that reaches the network. */
async function chromium(bin: string, args: string[], url: string): Promise<string> {
  const profile = await mkdtemp(join(tmpdir(), 'chromium-profile-'));
  try {
    const r = await execa(bin, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--hide-scrollbars', `--user-data-dir=${profile}`, ...args, url,
    ], { reject: false });
    assert.equal(r.exitCode, 0, `chromium failed: ${r.stderr.split('\n').slice(-3).join(' | ')}`);
    return r.stdout;
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG', 'not a PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/**
 * A page that shows matrix.html in a phone-sized frame (headless windows are at least 500 px wide)
 * and, once it has loaded, writes what the frame laid out into its own DOM for --dump-dom. The
 * artifact itself stays script-free; srcdoc keeps the frame same-origin and its CSP its own.
 */
function probePage(html: string, width: number, height: number): string {
  const srcdoc = html.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
  return `<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" style="border:0;width:${width}px;height:${height}px" srcdoc="${srcdoc}"></iframe>
<script>f.addEventListener('load', () => {
  const d = f.contentDocument, w = f.contentWindow;
  const rows = [...d.querySelectorAll('tbody tr[id^="req-"]')];
  document.body.dataset.probe = JSON.stringify({
    viewport: w.innerWidth,
    pageWidth: d.documentElement.scrollWidth,
    tableHeight: d.querySelector('table')?.getBoundingClientRect().height ?? 0,
    rows: rows.length,
    rowsLaidOut: rows.filter((r) => r.getBoundingClientRect().height > 0).length,
    fontPx: parseFloat(w.getComputedStyle(d.body).fontSize),
    firstCell: d.querySelector('tbody tr[id^="req-"] td')?.textContent ?? '',
  });
});</script></body></html>`;
}

describe('matrix.html in headless Chromium', function () {
  this.timeout(60_000);
  let bin: string;
  let dir: string;
  let page: string;
  before(async () => {
    bin = await findChromium();
    dir = await mkdtemp(join(tmpdir(), 'matrix-chromium-'));
    await writeReports(fixtureDoc(), { reportsDir: dir, expectations: fixtureExpectations(), gates: {}, redactor: new Redactor() });
    page = join(dir, 'matrix.html');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('renders the requirement table on a phone screen without the page scrolling sideways', async () => {
    const html = await readFile(page, 'utf8');
    const probed = join(dir, 'probed.html');
    await writeFile(probed, probePage(html, PHONE.width, PHONE.height));
    const dom = await chromium(bin, ['--dump-dom'], pathToFileURL(probed).href);
    const m = /data-probe="([^"]*)"/.exec(dom);
    assert.ok(m, 'the page did not load in Chromium (no probe data in the DOM)');
    const probe = JSON.parse(m[1]!.replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as Record<string, number | string>;
    const rows = (html.match(/<tr id="req-/g) ?? []).length;
    assert.ok(rows > 20, `expected a row per requirement, the page has ${rows}`);
    assert.equal(probe.rows, rows);
    assert.equal(probe.rowsLaidOut, rows, 'every requirement row has a height on screen');
    assert.ok((probe.tableHeight as number) > 500, `table height ${probe.tableHeight}px`);
    assert.equal(probe.viewport, PHONE.width);
    assert.ok((probe.pageWidth as number) <= PHONE.width, `the page is ${probe.pageWidth}px wide on a ${PHONE.width}px screen`);
    assert.ok((probe.fontPx as number) >= 14, `body text is ${probe.fontPx}px`);
    assert.match(String(probe.firstCell), /not tested|holds|fails/);
  });

  it('keeps phone and desktop screenshots under reports/', async () => {
    await mkdir(REPORTS, { recursive: true });
    for (const [name, size] of [['phone', PHONE], ['desktop', DESKTOP]] as const) {
      const shot = join(REPORTS, `matrix-chromium-${name}.png`);
      await rm(shot, { force: true });
      await chromium(bin, [`--screenshot=${shot}`, `--window-size=${size.width},${size.height}`], pathToFileURL(page).href);
      assert.deepEqual(pngSize(await readFile(shot)), size);
    }
  });
});
