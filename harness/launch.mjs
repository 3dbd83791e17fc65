#!/usr/bin/env node
// `conformance` as `npm run conformance` starts it: harness/cli.ts bundled with esbuild into one
// ES module (plus lazily loaded chunks: the SSH drivers, the mocha spec, each scenario family),
// cached by its sources' hash in node_modules/.cache/conformance-cli/, and imported without a
// TypeScript loader. Under tsx every module the run loads went through its loader hooks (another
// thread) one by one: ~0.5 s of a quick run's start-up. The code is the same: tsx transforms with
// esbuild too, and `node --import tsx harness/cli.ts` (what the tests spawn) still works.
//
// The cache key: the files the last bundle was made of (esbuild's list of its inputs), the list of
// scenario families, the dependency versions (lock file), this script and the Node binary. Every
// file is written under a temporary name and renamed, so concurrent runs never read half a bundle.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const CACHE = join(REPO, 'node_modules', '.cache', 'conformance-cli');
const ENTRY = 'harness/cli.ts';
const SCENARIOS = 'scenarios';
/**
 * Pure-JavaScript packages every run loads, bundled in: loading zod's hundred-odd modules one by
 * one was a tenth of a quick run. Every other package is loaded from node_modules at run time
 * (mocha loads its reporters by name; allure-mocha and our code must share allure-js-commons).
 */
const BUNDLED = ['zod', 'yaml', 'commander'];
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
const EXTERNAL = { external: Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((d) => !BUNDLED.includes(d)).flatMap((d) => [d, `${d}/*`]) };

/** The bundle's entry for the current sources: the cached one, or one built now. */
async function bundledCli() {
  const latest = readJson(join(CACHE, 'latest.json'));
  if (latest && typeof latest.dir === 'string' && Array.isArray(latest.inputs) && keyOf(latest.inputs) === latest.key) {
    const entry = join(CACHE, latest.dir, 'cli.mjs');
    if (statSync(entry, { throwIfNoEntry: false })) return entry;
  }
  return build();
}

async function build() {
  const { build: esbuild } = await import('esbuild');
  const work = join(CACHE, `build-${process.pid}-${Date.now()}`);
  const result = await esbuild({
    entryPoints: { cli: join(REPO, ENTRY) },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outdir: work,
    outExtension: { '.js': '.mjs' },
    ...EXTERNAL,
    keepNames: true,
    metafile: true,
    logLevel: 'warning',
    plugins: [sourceUrls],
    // The bundled CommonJS packages (yaml, commander) require Node's built-in modules.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  });
  const inputs = Object.keys(result.metafile.inputs).map((f) => relative(REPO, resolve(f))).filter((f) => !f.split(/[\\/]/).includes('node_modules')).sort();
  const key = keyOf(inputs);
  const dir = key.slice(0, 16);
  rmSync(join(CACHE, dir), { recursive: true, force: true });
  try {
    renameSync(work, join(CACHE, dir));
  } catch {
    rmSync(work, { recursive: true, force: true }); // another run put the same bundle in place first
  }
  const tmp = join(CACHE, `latest.json.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify({ key, dir, inputs }, null, 2)}\n`);
  renameSync(tmp, join(CACHE, 'latest.json'));
  // Older bundles go once unused for a day (a run started before may still be loading chunks).
  for (const d of readdirSync(CACHE)) {
    const at = join(CACHE, d);
    if (d !== dir && d !== 'latest.json' && Date.now() - (statSync(at, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 86_400_000) rmSync(at, { recursive: true, force: true });
  }
  return join(CACHE, dir, 'cli.mjs');
}

/**
 * The sources keep their own place: `import.meta.url` in each is its file's URL (the modules find
 * package.json, the scenarios, the Allure worker and the Java front next to themselves).
 */
const sourceUrls = {
  name: 'source-urls',
  setup(b) {
    b.onLoad({ filter: /\.(ts|mjs)$/ }, (args) => {
      if (args.path.split(/[\\/]/).includes('node_modules')) return undefined;
      const text = readFileSync(args.path, 'utf8').replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href));
      return { contents: text, loader: args.path.endsWith('.ts') ? 'ts' : 'js' };
    });
  },
};

function keyOf(inputs) {
  const h = createHash('sha256').update(`${process.version} ${process.arch} ${process.execPath} ${REPO}\n`);
  // A new family file is found by listing the directory: the list is part of the key.
  h.update(`${readdirSync(join(REPO, SCENARIOS)).sort().join('\n')}\n`);
  for (const f of [...inputs, 'package-lock.json', relative(REPO, fileURLToPath(import.meta.url))]) {
    let content;
    try {
      content = readFileSync(join(REPO, f));
    } catch {
      return 'gone';
    }
    h.update(`${f}\n${content.length}\n`).update(content);
  }
  return h.digest('hex');
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

await import(pathToFileURL(await bundledCli()).href);
