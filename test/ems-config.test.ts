import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as oracle from '../harness/ems/config.ts';
import * as simulator from '../targets/simulator/config.ts';
import { JsonSyntaxError, parseJson } from '../targets/simulator/json-text.ts';

// Both config.json readers, the harness's (it renders the files) and the simulator's (it runs
// them), over the same samples: they share no code, so only the samples can make them agree.

const SAMPLES = new URL('./fixtures/config-samples/', import.meta.url);

type ReaderName = 'harness' | 'simulator';
interface Problem { path: string; says?: string; harness?: string; simulator?: string }
interface Index {
  valid: { sample: string; expected: string; about: string }[];
  invalid: { sample: string; reportedAs?: string; problems: Problem[] }[];
  malformed: { text: string; at: string; about?: string; secrets?: string[]; reason?: Partial<Record<ReaderName, string>> }[];
}

const INDEX = JSON.parse(readFileSync(new URL('index.json', SAMPLES), 'utf8')) as Index;
const sample = (name: string) => readFileSync(new URL(name, SAMPLES), 'utf8');

interface Reader {
  name: ReaderName;
  file: string;
  read(text: string, file: string): unknown;
  ConfigError: new (...args: never[]) => Error;
  /** Offset of the first JSON syntax error in `text`, -1 when there is none. */
  errorOffset(text: string): number;
}

const READERS: Reader[] = [
  {
    name: 'harness',
    file: 'harness/ems/config.ts',
    read: oracle.parseConfigText,
    ConfigError: oracle.ConfigError,
    errorOffset: oracle.jsonErrorOffset,
  },
  {
    name: 'simulator',
    file: 'targets/simulator/config.ts',
    read: simulator.readConfigText,
    ConfigError: simulator.ConfigError,
    errorOffset(text) {
      try {
        parseJson(text);
        return -1;
      } catch (err) {
        if (err instanceof JsonSyntaxError) return err.offset;
        throw err;
      }
    },
  },
];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** `^<file>: <path>: <text>; …$`, each text as both readers say it or as this reader's pattern. */
function expectedMessage(problems: Problem[], file: string, reader: ReaderName): RegExp {
  const parts = problems.map((p) => {
    const text = p.says !== undefined ? escape(p.says) : p[reader] !== undefined ? `(?:${p[reader]})` : '[^;]+';
    return `${escape(file)}: ${escape(p.path)}: ${text}`;
  });
  return new RegExp(`^${parts.join('; ')}$`);
}

/** Every string and number of the document that is long enough to mean something. */
function valuesOf(v: unknown): string[] {
  if (typeof v === 'string' || typeof v === 'number') return String(v).length >= 4 ? [String(v)] : [];
  if (v && typeof v === 'object') return Object.values(v).flatMap(valuesOf);
  return [];
}

/** V8's position of a JSON syntax error, when its message names one. */
function v8Position(text: string): number | undefined {
  try {
    JSON.parse(text);
  } catch (err) {
    const m = /at position (\d+)/.exec((err as Error).message);
    return m ? Number(m[1]) : undefined;
  }
  assert.fail(`${JSON.stringify(text)} parsed`);
}

for (const reader of READERS) {
  describe(`config.json reader: ${reader.name} (${reader.file})`, () => {
    function errorOf(text: string, file = 'config.json'): string {
      try {
        reader.read(text, file);
      } catch (err) {
        assert.ok(err instanceof reader.ConfigError, String(err));
        return err.message;
      }
      assert.fail('expected a ConfigError');
    }

    for (const v of INDEX.valid) {
      it(`reads ${v.sample}: ${v.about}`, () => {
        assert.deepEqual(reader.read(sample(v.sample), 'config.json'), JSON.parse(sample(v.expected)));
      });
    }

    for (const v of INDEX.invalid) {
      it(`names the file, the dotted path and the problem, never a value: ${v.sample}`, () => {
        const text = sample(v.sample);
        const file = v.reportedAs ?? 'config.json';
        const msg = errorOf(text, file);
        assert.match(msg, expectedMessage(v.problems, file, reader.name));
        for (const value of valuesOf(JSON.parse(text))) assert.ok(!msg.includes(value), `${msg} quotes ${value}`);
      });
    }

    it('pins the wording the error map and the docs rely on', () => {
      const minimal = JSON.parse(sample('valid/minimal.json')) as Record<string, unknown>;
      assert.equal(errorOf(JSON.stringify({ ...minimal, certificates: { validate: 'yes' } })), 'config.json: certificates.validate: expected boolean, got string');
      assert.equal(errorOf('[]'), 'config.json: (root): expected object, got array');
    });

    for (const m of INDEX.malformed) {
      it(`places malformed JSON at line:column ${m.at}, quoting nothing: ${JSON.stringify(m.text)}${m.about ? ` (${m.about})` : ''}`, () => {
        const msg = errorOf(m.text);
        const reason = m.reason?.[reader.name];
        assert.match(msg, new RegExp(`^config\\.json:${escape(m.at)}: malformed JSON: `));
        if (reason !== undefined) assert.match(msg.replace(/^[^:]*:\d+:\d+: malformed JSON: /, ''), new RegExp(reason));
        for (const secret of m.secrets ?? []) assert.ok(!msg.includes(secret), msg);
      });
    }

    it('locates syntax errors where V8 does, when V8 says where', () => {
      for (const { text } of INDEX.malformed) {
        const json = text.replace(/^\uFEFF/, ''); // both readers drop one byte order mark first
        const position = v8Position(json);
        if (position !== undefined) assert.equal(reader.errorOffset(json), position, JSON.stringify(text));
        else assert.notEqual(reader.errorOffset(json), -1, JSON.stringify(text));
      }
      assert.equal(reader.errorOffset(' {"a": [true, false, null, -1.5e+3, "\\u00e9"]} '), -1);
    });
  });
}

describe('JSON text reader of the simulator (targets/simulator/json-text.ts)', () => {
  it('reads what JSON.parse reads, value for value', () => {
    const texts = [
      ...INDEX.valid.map((v) => sample(v.sample).replace(/^\uFEFF/, '')),
      ' {"a": [true, false, null, -1.5e+3, "\\u00e9"]} ',
      '{"esc":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\ud83d\\ude00\\ud800","n":[0,-0,1E2,1e-2,-12.5e+1,1e400,123456789012345678901]}',
      '{"dup":1,"dup":2,"__proto__":{"x":1},"constructor":3}',
      '"top"', '[]', '{}', '0', 'null',
    ];
    for (const text of texts) {
      const ours = parseJson(text);
      assert.deepEqual(ours, JSON.parse(text), text);
      if (ours && typeof ours === 'object' && !Array.isArray(ours)) assert.deepEqual(Object.keys(ours), Object.keys(JSON.parse(text) as object), text);
    }
    const odd = parseJson('{"__proto__":{"x":1}}') as Record<string, unknown>;
    assert.deepEqual(Object.getOwnPropertyDescriptor(odd, '__proto__')?.value, { x: 1 }); // a member, not the prototype
    assert.equal(Object.getPrototypeOf(odd), Object.prototype);
    assert.ok(Object.is(parseJson('-0'), -0));
  });

  it('refuses nesting deeper than it can follow as a syntax error, not a stack overflow', () => {
    assert.deepEqual(parseJson(`${'['.repeat(1000)}${']'.repeat(1000)}`), JSON.parse(`${'['.repeat(1000)}${']'.repeat(1000)}`));
    assert.throws(() => parseJson('['.repeat(100_000)), (err) => err instanceof JsonSyntaxError && err.offset === 1000 && /nested deeper/.test(err.reason));
  });
});
