import { execa } from 'execa';
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// `npm run test:breakages`: the breakages issue 16 found no test catching, each made again in a
// scratch copy of the repository, with the tests that must now fail run against that copy
// (docs/testing.md "Breakages that tests now catch"). The repository itself is never edited.
// A breakage whose text is no longer in its file is reported as such (the code moved on: update
// the entry), never as caught.

interface Breakage {
  what: string;
  file: string;
  /** Text that must occur exactly once in the file, and what it is replaced with. */
  from: string;
  to: string;
  /** The test files (and optionally a grep) that must fail with the breakage in place. */
  tests: string[];
  grep?: string;
}

export const BREAKAGES: Breakage[] = [
  {
    what: 'verdict.ts: the protocolIn check turned off',
    file: 'harness/scenario/verdict.ts',
    from: 'if (expect.protocolIn && !(hs && expect.protocolIn.includes(hs.protocol))) {',
    to: 'if (false) {',
    tests: ['test/verdict.test.ts'],
  },
  {
    what: 'error-map.ts: the target\'s entries no longer tried first',
    file: 'harness/ems/error-map.ts',
    from: 'return extra.find((e) => regex(e.pattern).test(line)) ?? C_SDK_ERROR_MAP.find((e) => regex(e.pattern).test(line));',
    to: 'return C_SDK_ERROR_MAP.find((e) => regex(e.pattern).test(line)) ?? extra.find((e) => regex(e.pattern).test(line));',
    tests: ['test/verdict.test.ts'],
  },
  {
    what: 'divergences.ts: the class condition of a listed divergence dropped',
    file: 'harness/report/divergences.ts',
    from: '&& (listed.class === undefined || listed.class === r.actual.class);',
    to: ';',
    tests: ['test/report-divergences.test.ts'],
  },
  {
    what: 'redact.ts: object keys no longer redacted',
    file: 'harness/report/redact.ts',
    from: '        this.text(k),',
    to: '        k,',
    tests: ['test/redact.test.ts'],
  },
  {
    what: 'run.ts: a REST isConnected=false after a connected-looking handshake ignored',
    file: 'harness/scenario/run.ts',
    from: "if (judgement.status === 'passed' && restConnected === false) {",
    to: 'if (false) {',
    tests: ['test/rest-check.test.ts'],
  },
  {
    what: 'run.ts: the platform endpoint left listening after its scenario',
    file: 'harness/scenario/run.ts',
    from: 'await Promise.allSettled([session?.close(), endpoint?.close()]);',
    to: 'await Promise.allSettled([session?.close()]);',
    tests: ['test/run-leaks.test.ts'],
  },
  {
    what: 'verdict-watch.ts: the hang timer never armed (a silent EMS waits for ever)',
    file: 'harness/scenario/verdict-watch.ts',
    from: "timers.push(clock.setTimeout(() => finish({ verdict: 'HANG'",
    to: "timers.push(clock.setTimeout(() => undefined && finish({ verdict: 'HANG'",
    tests: ['test/silent-ems.test.ts'],
  },
  {
    what: 'verdict-watch.ts: the platform grace never armed (a handshake line waits for the hang timer)',
    file: 'harness/scenario/verdict-watch.ts',
    from: "if (cls === 'handshake' || cls === 'connect-failed') {",
    to: 'if (false) {',
    tests: ['test/silent-ems.test.ts'],
  },
  {
    what: 'conformance-run.ts: a failed sanity scenario no longer gates its target',
    file: 'harness/scenario/conformance-run.ts',
    from: "down ?? ((r.checks?.expectationStatus ?? r.status) === 'passed' ? undefined :",
    to: "down ?? ((r.checks?.expectationStatus ?? r.status) !== 'nothing' ? undefined :",
    tests: ['test/sanity-gate.test.ts'],
  },
  {
    what: 'gates.ts: an unlisted failure no longer fails the run (exit 0)',
    file: 'harness/report/gates.ts',
    from: 'if (failed > maxFailures) {',
    to: 'if (false) {',
    tests: ['test/run-exit-code.test.ts'],
  },
  {
    what: 'junit.ts: a failed result written as a passing testcase',
    file: 'harness/report/junit.ts',
    from: "if (outcome === 'failed') body.push(",
    to: "if (outcome === 'nothing') body.push(",
    tests: ['test/run-exit-code.test.ts'],
  },
  {
    what: 'model.ts: a variant\'s condition ignores its capabilities (has)',
    file: 'harness/scenario/model.ts',
    from: '(c.has ?? []).every((x) => capabilities.includes(x)) &&',
    to: '',
    tests: ['test/expectation-variants.test.ts'],
  },
  {
    what: 'write.ts: the report step writes matrix.html without the redactor',
    file: 'harness/report/write.ts',
    from: "await writeRedacted(at('matrix.html'), renderMatrixHtml(doc, matrix, changes), o.redactor)",
    to: "await writeRedacted(at('matrix.html'), renderMatrixHtml(doc, matrix, changes), new Redactor())",
    tests: ['test/report-secrets.test.ts'],
  },
];

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Copied as links: big, and never broken here. */
const LINKED = new Set(['node_modules', '.git', 'reports', '.stryker-tmp']);

async function scratchCopy(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'breakage-'));
  const { readdir } = await import('node:fs/promises');
  for (const entry of await readdir(ROOT)) {
    if (LINKED.has(entry)) await symlink(join(ROOT, entry), join(dir, entry));
    else await cp(join(ROOT, entry), join(dir, entry), { recursive: true, verbatimSymlinks: true });
  }
  return dir;
}

async function check(b: Breakage, dir: string): Promise<{ ok: boolean; line: string }> {
  const path = join(dir, b.file);
  const original = await readFile(path, 'utf8');
  const count = original.split(b.from).length - 1;
  if (count !== 1) return { ok: false, line: `NOT APPLIED ${b.what}: the text occurs ${count} times in ${b.file} (update the entry)` };
  await writeFile(path, original.replace(b.from, b.to));
  try {
    // --exit: a breakage may leave a server or a process behind, which would keep mocha from ending.
    const r = await execa('npx', ['mocha', '--import=tsx', '--no-config', '--exit', '--timeout', '120000', ...(b.grep ? ['--grep', b.grep] : []), ...b.tests], {
      cwd: dir, reject: false, all: true, timeout: 10 * 60_000,
    });
    const failing = /(\d+) failing/.exec(r.all ?? '')?.[1];
    if (r.exitCode !== 0 && failing) return { ok: true, line: `caught     ${b.what}: ${failing} failing in ${b.tests.join(', ')}` };
    if (r.exitCode !== 0) return { ok: false, line: `ERROR      ${b.what}: the tests did not run (exit ${r.exitCode}):\n${r.all}` };
    return { ok: false, line: `NOT CAUGHT ${b.what}: ${b.tests.join(', ')} still pass` };
  } finally {
    await writeFile(path, original);
  }
}

const only = process.argv.slice(2);
const dir = await scratchCopy();
let missed = 0;
try {
  for (const b of BREAKAGES.filter((x) => !only.length || only.some((o) => x.what.includes(o)))) {
    const { ok, line } = await check(b, dir);
    if (!ok) missed++;
    console.log(line);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
if (missed) {
  console.error(`${missed} breakage(s) not caught`);
  process.exitCode = 1;
}
