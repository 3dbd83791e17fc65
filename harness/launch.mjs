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
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const CACHE = join(REPO, 'node_modules', '.cache', 'conformance-cli');
const ENTRY = 'harness/cli.ts';
/** The Allure report generator's process (harness/report/allure-generate.ts starts it). */
const WORKER = 'harness/report/allure-worker.mjs';
const WORKER_BUNDLE = 'allure-worker.mjs';
const SCENARIOS = 'scenarios';
/**
 * Pure-JavaScript packages every run loads, bundled in: loading zod's hundred-odd modules one by
 * one was a tenth of a quick run, mocha's a tenth more. mocha, allure-mocha and allure-js-commons
 * go in together (one copy of each: harness/mocha/run-mocha.ts hands mocha the reporter's class,
 * not its name). ws too: a CommonJS package imported from node_modules has Node's ESM loader scan
 * its files for their export names first. Every other package is loaded from node_modules at run time.
 */
const BUNDLED = ['zod', 'yaml', 'commander', 'mocha', 'allure-mocha', 'allure-js-commons', 'ws'];
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
/** ws's optional native helpers: not installed, ws goes on without them (a require in a try). */
const OPTIONAL = ['bufferutil', 'utf-8-validate'];
const EXTERNAL = { external: [...Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((d) => !BUNDLED.includes(d)).flatMap((d) => [d, `${d}/*`]), ...OPTIONAL] };

/** The bundle's entry for the current sources: the cached one, or one built now. */
async function bundledCli() {
  const latest = readJson(join(CACHE, 'latest.json'));
  if (latest && typeof latest.dir === 'string' && Array.isArray(latest.inputs) && keyOf(latest.inputs) === latest.key) {
    const entry = join(CACHE, latest.dir, 'cli.mjs');
    if (statSync(entry, { throwIfNoEntry: false }) && statSync(join(CACHE, latest.dir, WORKER_BUNDLE), { throwIfNoEntry: false })) return entry;
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
  // The worker with its packages (they are what it loads); paths inside them kept as they were.
  const worker = await esbuild({
    entryPoints: [join(REPO, WORKER)],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outfile: join(work, WORKER_BUNDLE),
    keepNames: true,
    metafile: true,
    logLevel: 'warning',
    plugins: [allurePlugins, gitAskedOnce, packageUrls],
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  });
  const inputs = [...new Set([...Object.keys(result.metafile.inputs), ...Object.keys(worker.metafile.inputs)])]
    .map((f) => relative(REPO, resolve(f))).filter((f) => !f.split(/[\\/]/).includes('node_modules')).sort();
  const key = keyOf(inputs);
  const dir = key.slice(0, 16);
  // The same key is the same bundle: one another run put in place first stays (it may be running).
  if (statSync(join(CACHE, dir), { throwIfNoEntry: false })) rmSync(work, { recursive: true, force: true });
  else renameSync(work, join(CACHE, dir));
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
      const text = withOwnUrl(readFileSync(args.path, 'utf8'), pathToFileURL(args.path).href);
      return { contents: text, loader: args.path.endsWith('.ts') ? 'ts' : 'js' };
    });
  },
};

/**
 * Every `import.meta.url` expression in a source as the given URL; not the words inside a string
 * (the simulator's build.mjs names `'import.meta.url'` as the key of an esbuild define).
 */
function withOwnUrl(text, url) {
  return text.replace(/(?<![\w$.'"`])import\.meta\.url(?![\w$'"`])/g, JSON.stringify(url));
}

/**
 * Allure loads its report plugins by name at run time (`importWrapper` in @allurereport/core: a
 * require.resolve and an import() of the result), which esbuild cannot follow: the awesome and the
 * agent plugin and their ~250 modules were loaded file by file after the bundle, half the
 * generator's start-up. Here those two names resolve to the copies bundled in; any other name
 * loads as Allure loads it.
 */
const BUNDLED_ALLURE_PLUGINS = ['@allurereport/plugin-awesome', '@allurereport/plugin-agent'];
const allurePlugins = {
  name: 'allure-plugins',
  setup(b) {
    b.onLoad({ filter: /[\\/]@allurereport[\\/]core[\\/]dist[\\/]utils[\\/]module\.js$/ }, (args) => ({
      contents: [
        "import { createRequire } from 'node:module';",
        "import { pathToFileURL } from 'node:url';",
        `const require = createRequire(${JSON.stringify(pathToFileURL(args.path).href)});`,
        `const bundled = { ${BUNDLED_ALLURE_PLUGINS.map((p) => `${JSON.stringify(p)}: () => import(${JSON.stringify(p)})`).join(', ')} };`,
        'export const importWrapper = async (path) => (bundled[path] ? bundled[path]() : import(pathToFileURL(require.resolve(path)).href));',
      ].join('\n'),
      loader: 'js',
      resolveDir: dirname(args.path),
    }));
  },
};

/**
 * Allure's local-CI descriptor asks git for the repository and branch (five `spawnSync('git')` in
 * report.done(), two of them twice): ~40 ms at the very end of a run, after the last scenario. Here
 * each question is asked once, when the generator loads (in the background while the scenarios
 * run), and answered from memory after. Should Allure's file change shape, it is left as it is.
 */
const GIT_IMPORT = 'import { spawnSync } from "node:child_process";';
const gitAskedOnce = {
  name: 'git-asked-once',
  setup(b) {
    b.onLoad({ filter: /[\\/]@allurereport[\\/]ci[\\/]dist[\\/]detectors[\\/]local\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes(GIT_IMPORT)) return undefined;
      const memo = [
        'import { spawnSync as spawnSyncNow } from "node:child_process";',
        'const answers = new Map();',
        'const spawnSync = (...args) => { const k = JSON.stringify(args); if (!answers.has(k)) answers.set(k, spawnSyncNow(...args)); return answers.get(k); };',
        'for (const argv of [["remote", "get-url", "origin"], ["rev-parse", "--show-toplevel"], ["rev-parse", "--abbrev-ref", "HEAD"]]) spawnSync("git", argv);',
      ].join('\n');
      return { contents: text.replace(GIT_IMPORT, memo), loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

/**
 * Packages bundled keep finding their own files: `import.meta.url`, `__dirname` and `__filename`
 * in each are its original place (Allure reads its report templates next to its modules).
 */
const packageUrls = {
  name: 'package-urls',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/].*\.(m?js|cjs)$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!/import\.meta\.url|\b__dirname\b|\b__filename\b/.test(text)) return undefined;
      return {
        contents: withOwnUrl(text, pathToFileURL(args.path).href)
          .replace(/\b__dirname\b/g, JSON.stringify(dirname(args.path))).replace(/\b__filename\b/g, JSON.stringify(args.path)),
        loader: 'js',
        resolveDir: dirname(args.path),
      };
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

const cli = await bundledCli().catch((e) => {
  // A source that does not compile: esbuild's message names the file and line; no stack of ours.
  process.stderr.write(`conformance: cannot bundle the harness: ${e.message}\n`);
  process.exit(2);
});
// The generator's process runs its bundle too: it loads Allure 3's ~500 modules as one file.
process.env.CONFORMANCE_ALLURE_WORKER = join(dirname(cli), WORKER_BUNDLE);
await import(pathToFileURL(cli).href);
