import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';
import chromium from '@sparticuz/chromium';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { Redactor } from '../harness/report/redact.ts';
import { writeReports } from '../harness/report/write.ts';
import { fixtureDoc, fixtureExpectations } from './report-fixture.ts';

// matrix.html in a real browser: headless Chromium from npm (@sparticuz/chromium ships the binary
// in the package; nothing to install by hand) opens the page with networking off, lays it out at
// phone and desktop width, and the test checks what is on screen: the requirement rows, text that
// renders, nothing sticking out sideways on a phone. Screenshots go to the test's own reports
// directory (a temporary one), never the repository's reports/.

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 1000 };
/** As root Chromium needs --no-sandbox; the rest keeps it off a network it must not reach. */
const ARGS = ['--no-sandbox', '--no-zygote', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-default-apps', '--mute-audio'];

interface Layout {
  viewport: number;
  pageWidth: number;
  rows: number;
  rowsLaidOut: number;
  fontPx: number;
  firstCell: string;
  /** Text nodes of the requirement table with a non-empty box (glyphs were laid out). */
  textBoxes: number;
  /** Elements outside a sideways-scrolling box whose right edge passes the viewport. */
  overflowing: string[];
}

/**
 * What the page laid out, read from its DOM (matrix.html itself has no script). Plain JavaScript
 * text: a function compiled by tsx would carry helpers the page does not have.
 */
const LAYOUT_PROBE = `(() => {
  const rows = [...document.querySelectorAll('tbody tr[id^="req-"]')];
  const walker = document.createTreeWalker(document.querySelector('table') ?? document.body, NodeFilter.SHOW_TEXT);
  let textBoxes = 0;
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    const box = range.getBoundingClientRect();
    if (box.width > 0 && box.height > 0) textBoxes++;
  }
  const scrolls = (e) => {
    for (let p = e; p && p !== document.documentElement; p = p.parentElement) if (['auto', 'scroll'].includes(getComputedStyle(p).overflowX)) return true;
    return false;
  };
  const overflowing = [...document.body.querySelectorAll('*')]
    .filter((e) => !scrolls(e.parentElement) && e.getBoundingClientRect().right > window.innerWidth + 0.5)
    .map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + String(e.className).split(' ')[0] : ''));
  return {
    viewport: window.innerWidth,
    pageWidth: document.documentElement.scrollWidth,
    rows: rows.length,
    rowsLaidOut: rows.filter((r) => r.getBoundingClientRect().height > 0).length,
    fontPx: parseFloat(getComputedStyle(document.body).fontSize),
    firstCell: document.querySelector('tbody tr[id^="req-"] td')?.textContent ?? '',
    textBoxes,
    overflowing,
  };
})()`;

/** RGB(A) pixels of an 8-bit, non-interlaced PNG (what Chromium writes), unfiltered. */
function pngPixels(png: Buffer): { width: number; height: number; channels: number; data: Buffer } {
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG', 'not a PNG');
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const [depth, colour, , , interlace] = [png[24], png[25], png[26], png[27], png[28]];
  assert.ok(depth === 8 && (colour === 2 || colour === 6) && interlace === 0, `unexpected PNG format (depth ${depth}, colour type ${colour}, interlace ${interlace})`);
  const channels = colour === 6 ? 4 : 3;
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length;) {
    const len = png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + len));
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const data = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? data[y * stride + x - channels]! : 0;
      const b = y > 0 ? data[(y - 1) * stride + x]! : 0;
      const c = x >= channels && y > 0 ? data[(y - 1) * stride + x - channels]! : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const predicted = [0, a, b, (a + b) >> 1, paeth][filter];
      assert.ok(predicted !== undefined, `PNG filter ${filter}`);
      data[y * stride + x] = (line[x]! + predicted) & 0xff;
    }
  }
  return { width, height, channels, data };
}

/** Share of pixels darker than mid-grey (text on the page's white) and the number of distinct colours. */
function ink(png: Buffer): { width: number; height: number; dark: number; colours: number } {
  const { width, height, channels, data } = pngPixels(png);
  let dark = 0;
  const colours = new Set<number>();
  for (let i = 0; i < data.length; i += channels) {
    const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
    if (r + g + b < 384) dark++;
    colours.add((r << 16) | (g << 8) | b);
  }
  return { width, height, dark: dark / (width * height), colours: colours.size };
}

describe('matrix.html in headless Chromium', function () {
  this.timeout(120_000);
  let browser: Browser | undefined;
  let dir: string | undefined;
  let url: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'matrix-chromium-'));
    await writeReports(fixtureDoc(), { reportsDir: dir, expectations: fixtureExpectations(), gates: {}, redactor: new Redactor() });
    url = pathToFileURL(join(dir, 'matrix.html')).href;
    browser = await puppeteer.launch({ executablePath: await chromium.executablePath(), headless: 'shell', args: ARGS, userDataDir: join(dir, 'profile') });
  });
  after(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function open(size: { width: number; height: number }): Promise<Page> {
    const page = await browser!.newPage();
    // The page's CSP forbids every fetch; this makes sure nothing but the file itself is asked for.
    await page.setRequestInterception(true);
    page.on('request', (r) => (r.url() === url ? r.continue() : r.abort()));
    await page.setViewport(size);
    await page.goto(url, { waitUntil: 'load' });
    return page;
  }

  it('renders the requirement table on a phone screen without the page scrolling sideways', async () => {
    const html = await readFile(new URL(url), 'utf8');
    const rows = (html.match(/<tr id="req-/g) ?? []).length;
    assert.ok(rows > 20, `expected a row per requirement, the page has ${rows}`);
    const page = await open(PHONE);
    const l = (await page.evaluate(LAYOUT_PROBE)) as Layout;
    assert.equal(l.viewport, PHONE.width);
    assert.equal(l.rows, rows);
    assert.equal(l.rowsLaidOut, rows, 'every requirement row has a height on screen');
    assert.ok(l.textBoxes >= rows * 2, `only ${l.textBoxes} text nodes of the table have a box on screen`);
    assert.ok(l.pageWidth <= PHONE.width, `the page is ${l.pageWidth}px wide on a ${PHONE.width}px screen`);
    assert.deepEqual(l.overflowing, [], 'elements sticking out of a phone screen (outside the table\'s own scroll box)');
    assert.ok(l.fontPx >= 14, `body text is ${l.fontPx}px`);
    assert.match(l.firstCell, /not tested|holds|fails/);
  });

  it('paints text at phone and desktop width (screenshots in the test\'s reports directory)', async () => {
    for (const [name, size] of [['phone', PHONE], ['desktop', DESKTOP]] as const) {
      const page = await open(size);
      const shot = join(dir!, `matrix-chromium-${name}.png`);
      await page.screenshot({ path: shot });
      const s = ink(await readFile(shot));
      assert.deepEqual({ width: s.width, height: s.height }, size);
      // A blank or single-colour page fails here: text is dark pixels on white, badges add colours.
      assert.ok(s.dark > 0.01, `${name}: only ${(s.dark * 100).toFixed(2)}% of the screenshot is dark (no text painted?)`);
      assert.ok(s.colours > 20, `${name}: the screenshot has ${s.colours} colours`);
    }
  });
});
