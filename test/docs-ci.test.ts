import { strict as assert } from 'node:assert';
import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

// docs/ci.md's GitLab, Jenkins and GitHub examples, checked as far as a test can without a CI
// server: the YAML parses, the shard jobs fan out, and every option the examples pass to
// `conformance run` and `merge` is one the command line defines (test/cli-shard-merge.test.ts
// runs the commands themselves on the default inventory).

const REPO = fileURLToPath(new URL('../', import.meta.url));

function blocks(md: string, lang: string): string[] {
  return [...md.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
}

/** The --options of every `npm run <script> -- …` line in a text. */
function optionsOf(text: string, script: string): string[] {
  const lines = text.split('\n').filter((l) => l.includes(`npm run ${script} --`));
  return lines.flatMap((l) => [...l.slice(l.indexOf(`npm run ${script} --`) + `npm run ${script} --`.length).matchAll(/\s(--[a-z-]+)/g)].map((m) => m[1]!));
}

async function helpOptions(command: string): Promise<Set<string>> {
  const r = await execa(process.execPath, [join(REPO, 'harness/launch.mjs'), command, '--help'], { cwd: REPO });
  return new Set([...r.stdout.matchAll(/(--[a-z-]+)/g)].map((m) => m[1]!));
}

describe('docs/ci.md examples', function () {
  this.timeout(60_000);
  let md: string;
  let run: Set<string>;
  let merge: Set<string>;
  before(async () => {
    md = await readFile(join(REPO, 'docs/ci.md'), 'utf8');
    [run, merge] = await Promise.all([helpOptions('run'), helpOptions('merge')]);
  });

  it('GitLab: valid YAML, a parallel shard job handing CI_NODE_INDEX/CI_NODE_TOTAL to --shard, a merge job after it', () => {
    const ci = blocks(md, 'yaml').map((b) => parseYaml(b) as Record<string, { parallel?: number; script?: string[]; needs?: string[] }>).find((y) => 'stages' in y)!;
    assert.ok(ci, 'no GitLab example');
    const shardJob = Object.values(ci).find((j) => typeof j === 'object' && j && 'parallel' in j)!;
    assert.ok(shardJob.parallel! >= 2);
    assert.ok(shardJob.script!.some((l) => l.includes('--shard "${CI_NODE_INDEX}/${CI_NODE_TOTAL}"')));
    assert.ok(Object.values(ci).some((j) => typeof j === 'object' && j?.script?.some((l) => l.includes('npm run conformance:merge --'))));
  });

  it('Jenkins: a parallel stage of shards i/n, then a merge of their results', () => {
    const [groovy] = blocks(md, 'groovy');
    assert.ok(groovy, 'no Jenkins example');
    assert.match(groovy, /parallel \{[\s\S]*shard\(1, 2\)[\s\S]*shard\(2, 2\)/);
    assert.match(groovy, /--shard \$\{i\}\/\$\{n\}/);
    assert.match(groovy, /conformance:merge -- reports\/shard-1\/results\.json reports\/shard-2\/results\.json/);
  });

  it('GitHub Actions: valid YAML, a matrix of shards', () => {
    const gh = blocks(md, 'yaml').map((b) => parseYaml(b) as { jobs?: Record<string, { strategy?: { matrix?: { shard?: number[] } } }> }).find((y) => y.jobs)!;
    assert.deepEqual(gh.jobs!.conformance!.strategy!.matrix!.shard, [1, 2, 3]);
  });

  it('every option the examples pass is one the command line defines', () => {
    const examples = [...blocks(md, 'yaml'), ...blocks(md, 'groovy'), ...blocks(md, 'sh')].join('\n');
    const used = { run: optionsOf(examples, 'conformance'), merge: optionsOf(examples, 'conformance:merge') };
    assert.ok(used.run.includes('--shard') && used.run.includes('--durations'), `run options seen: ${used.run}`);
    assert.ok(used.merge.includes('--reports'), `merge options seen: ${used.merge}`);
    assert.deepEqual(used.run.filter((o) => !run.has(o)), []);
    assert.deepEqual(used.merge.filter((o) => !merge.has(o)), []);
  });
});
