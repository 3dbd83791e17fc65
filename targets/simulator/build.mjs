// Bundles the simulator into dist/wsems.mjs (run by bin/wsems): one ESM file for node 20, so a
// start needs neither tsx nor a TypeScript compile. `node targets/simulator/build.mjs`
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const outdir = here('./dist');

// Only the code chunks are replaced; dist/ also holds the -encrypt key file (dp.dat).
rmSync(here('./dist/chunks'), { recursive: true, force: true });

await build({
  entryPoints: { wsems: here('./wsems.ts') },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir,
  outExtension: { '.js': '.mjs' },
  // Lazily imported modules (node-forge, only for PKCS#12 keys) go to their own chunk, so an
  // ordinary start does not parse them.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  // CommonJS dependencies (ws, node-forge) call require(); an ESM bundle has none of its own.
  banner: { js: "import { createRequire as __wsemsCreateRequire } from 'node:module'; const require = __wsemsCreateRequire(import.meta.url);" },
  // ws's optional native helpers: required inside try/catch, absent here.
  external: ['bufferutil', 'utf-8-validate'],
  minify: true,
  keepNames: true, // class and function names survive minification (some libraries read them)
  legalComments: 'none',
  logLevel: 'warning',
});
