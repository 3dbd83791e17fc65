// Bundles the simulator and makes its start-up snapshot: `node targets/simulator/build.mjs`.
//
//   dist/wsems-<hash>.cjs  the bundle (CommonJS), named by its content hash
//   dist/wsems.blob        a V8 start-up snapshot with the bundle already loaded and initialised
//                          (node --build-snapshot): a start deserialises a heap instead of reading,
//                          compiling and running ~600 kB of JavaScript. bin/wsems runs it.
//   dist/wsems.cjs         the launcher bin/wsems falls back to when there is no snapshot
//   dist/build.json        what the build was made from: the sources' hash, and the inputs to hash
//
// Cached by its sources' hash (as the certificate catalogue is by its recipes'): when the files the
// last bundle was made of (esbuild's list of its inputs), the dependency versions, this script and
// the Node binary are what they were, and the outputs are in place, nothing is built. `--force`
// builds anyway. `buildSimulator()` does the same for a caller that imports this file.
//
// Other processes may run the simulator while this builds: every file is written under a temporary
// name and renamed into place, and a bundle a launcher may still name is kept for a minute.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('./dist/', import.meta.url));
const LAUNCHER = 'wsems.cjs';
const SNAPSHOT = 'wsems.blob';
/** Where the bundle's sources find dist/ (secrets.ts: dp.dat) at run time; set by the snapshot's main or the launcher. */
const MODULE_URL = 'globalThis.__wsemsModuleUrl';
/** Built-in modules Node 20's snapshot builder cannot load (node:http) or does not vouch for. */
const DEFERRED = ['http', 'https', 'tls', 'child_process', 'module', 'vm', 'readline', 'tty', 'worker_threads', 'async_hooks', 'perf_hooks'];
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BUILD_INFO = 'build.json';

/**
 * Builds the simulator unless the recorded build is up to date; whether it built. The `run`
 * command calls it in its own process (harness/cli.ts: no extra Node start per run), and
 * `node build.mjs [--force]` runs it as a script.
 */
export async function buildSimulator({ force = false } = {}) {
  const recorded = readJson(join(dist, BUILD_INFO));
  if (!force && recorded && upToDate(recorded)) return false;
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./wsems.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'cjs', // the snapshot builder runs scripts, not ES modules
    target: 'node20',
    write: false,
    outfile: join(dist, 'wsems.cjs'),
    define: { 'import.meta.url': MODULE_URL },
    // ws's optional native helpers: required inside try/catch, absent here.
    external: ['bufferutil', 'utf-8-validate'],
    minify: true,
    keepNames: true, // class and function names survive minification (some libraries read them)
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
  });
  const code = result.outputFiles[0].text;
  const bundle = `wsems-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.cjs`;
  mkdirSync(dist, { recursive: true });
  const previous = bundleOf(join(dist, LAUNCHER));
  if (!existsSync(join(dist, bundle))) writeAtomically(join(dist, bundle), code);
  const snapshot = writeSnapshot(code);
  writeAtomically(join(dist, LAUNCHER), launcher(bundle));
  // Recorded last: a build that stopped half-way is made again next time.
  // (A plugin's virtual module, "namespace:path", is no file.)
  const inputs = Object.keys(result.metafile.inputs).filter((f) => !/^[a-z-]+:/.test(f)).map((f) => relative(REPO, resolve(f)))
    .filter((f) => !f.split(/[\\/]/).includes('node_modules')).sort();
  writeAtomically(join(dist, BUILD_INFO), `${JSON.stringify({ key: sourcesKey(inputs), inputs, bundle, snapshot }, null, 2)}\n`);

  // Older generations go, except the one the replaced launcher named (a start may be reading it)
  // and any written in the last minute (a concurrent build of other sources may be about to name it).
  for (const f of readdirSync(dist)) {
    if (!/^wsems-[0-9a-f]{16}\.cjs(\.cache)?$/.test(f) || f === bundle || f === previous) continue;
    const written = statSync(join(dist, f), { throwIfNoEntry: false })?.mtimeMs;
    if (written !== undefined && Date.now() - written > 60_000) rmSync(join(dist, f), { force: true });
  }
  // Earlier builds' layouts: ES-module chunks, an ES-module launcher.
  rmSync(join(dist, 'chunks'), { recursive: true, force: true });
  rmSync(join(dist, 'wsems.mjs'), { force: true });
  return true;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await buildSimulator({ force: process.argv.includes('--force') });

/**
 * The hash of what a build is made of: the bundle's own source files (the inputs esbuild read, the
 * dependencies under node_modules stand for by the lock file), this script, and the Node binary
 * (a snapshot only loads in the Node that made it). Undefined when an input is gone.
 */
function sourcesKey(inputs) {
  const h = createHash('sha256').update(`${process.version} ${process.arch} ${process.execPath}\n`);
  for (const f of [...inputs, 'package-lock.json', relative(REPO, fileURLToPath(import.meta.url))]) {
    let content;
    try {
      content = readFileSync(join(REPO, f));
    } catch {
      return undefined;
    }
    h.update(`${f}\n${content.length}\n`).update(content);
  }
  return h.digest('hex');
}

/** The outputs the recorded build names are in place, and its sources are unchanged. */
function upToDate(info) {
  if (typeof info.key !== 'string' || !Array.isArray(info.inputs) || typeof info.bundle !== 'string') return false;
  const outputs = [info.bundle, LAUNCHER, ...(info.snapshot ? [SNAPSHOT] : [])];
  return outputs.every((f) => existsSync(join(dist, f))) && sourcesKey(info.inputs) === info.key;
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function launcher(name) {
  return `// Generated by build.mjs: runs ${name} without the start-up snapshot (bin/wsems uses it only when there is none).
'use strict';
${MODULE_URL} = require('node:url').pathToFileURL(__filename).href;
require('./${name}').main(process.argv.slice(2));
`;
}

/**
 * The script `node --build-snapshot` runs: it loads the bundle and names the function a start
 * runs. While the snapshot is built, the bundle gets stand-ins for the DEFERRED modules that load
 * the real one at first use, at run time; what a library takes from one while it loads (ws takes
 * http's functions) is known from the shape of the real module, read here: a function becomes a
 * forwarder, a name the module lacks stays undefined.
 */
function snapshotEntry(bundleCode) {
  const shapes = Object.fromEntries(DEFERRED.map((m) => {
    const real = createRequire(import.meta.url)(`node:${m}`);
    return [m, Object.fromEntries(Object.keys(real).map((k) => [k, typeof real[k]]))];
  }));
  return `'use strict';
// Generated by build.mjs: the simulator's start-up snapshot (see build.mjs).
const { startupSnapshot } = require('node:v8');
const { dirname, join, resolve } = require('node:path');
const { pathToFileURL } = require('node:url');
const SHAPES = ${JSON.stringify(shapes)};
let building = true;
const forwarder = (get) => new Proxy(function () {}, {
  get: (_, key) => get()[key],
  apply: (_, self, args) => Reflect.apply(get(), self, args),
  construct: (_, args) => Reflect.construct(get(), args),
});
const deferred = (id, shape) => {
  let real;
  const load = () => (real ??= require(id));
  return new Proxy(function () {}, {
    get: (_, key) => {
      if (building && typeof key === 'string' && shape[key] === 'function') return forwarder(() => load()[key]);
      if (building && typeof key === 'string' && !(key in shape)) return undefined;
      return load()[key];
    },
    has: (_, key) => key in load(),
    apply: (_, self, args) => Reflect.apply(load(), self, args),
    construct: (_, args) => Reflect.construct(load(), args),
  });
};
const bundleRequire = (id) => {
  const shape = building && SHAPES[id.replace(/^node:/, '')];
  return shape ? deferred(id, shape) : require(id);
};
const bundle = { exports: {} };
(function (exports, require, module) {
${bundleCode}
})(bundle.exports, bundleRequire, bundle);
// Work every start does whose result the snapshot keeps: the first net.isIP of a host name
// compiles Node's IPv6 pattern (~3 ms of each start otherwise).
require('node:net').isIP('localhost');
startupSnapshot.setDeserializeMainFunction(() => {
  building = false;
  // node --snapshot-blob <file> -- <args>: no script name in argv; the blob's place is dist/.
  const at = process.execArgv.indexOf('--snapshot-blob');
  ${MODULE_URL} = pathToFileURL(join(dirname(resolve(process.execArgv[at + 1])), '${LAUNCHER}')).href;
  bundle.exports.main(process.argv.slice(1));
});
`;
}

/**
 * Builds dist/wsems.blob and checks it with one `-encrypt`; whether it made one. Without a snapshot (an older or newer
 * Node that cannot build this one) bin/wsems runs the launcher: the same simulator, slower to start.
 */
function writeSnapshot(bundleCode) {
  const work = mkdtempSync(join(tmpdir(), 'wsems-build-'));
  const blob = join(work, SNAPSHOT);
  const failed = (why) => {
    rmSync(join(dist, SNAPSHOT), { force: true }); // a stale snapshot would run older code
    process.stderr.write(`build.mjs: warning: no start-up snapshot, the simulator starts slower: ${why}\n`);
    return false;
  };
  try {
    writeFileSync(join(work, 'entry.cjs'), snapshotEntry(bundleCode));
    // Built, checked and (bin/wsems) run without NODE_OPTIONS: a snapshot only loads under the V8 settings it was built with.
    const { NODE_OPTIONS: _, ...env } = process.env;
    const made = spawnSync(process.execPath, ['--snapshot-blob', blob, '--build-snapshot', join(work, 'entry.cjs')], { encoding: 'utf8', timeout: 60_000, env });
    if (made.status !== 0 || !existsSync(blob)) return failed(`node --build-snapshot exited ${made.status ?? made.signal}: ${made.stderr.trim().slice(-500)}`);
    const check = spawnSync(process.execPath, ['--snapshot-blob', blob, '--', '-encrypt', 'snapshot-check'], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...env, WSEMS_SIM_KEYFILE: join(work, 'dp.dat') },
    });
    if (check.status !== 0 || !check.stdout.startsWith('wsems-sim-')) return failed(`the snapshot's -encrypt check exited ${check.status ?? check.signal}: ${check.stderr.trim().slice(-500)}`);
    writeAtomically(join(dist, SNAPSHOT), readFileSync(blob));
    return true;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The bundle a launcher runs, or undefined. */
function bundleOf(launcherFile) {
  try {
    return /'\.\/(wsems-[0-9a-f]{16}\.cjs)'/.exec(readFileSync(launcherFile, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

function writeAtomically(file, data) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}
