import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

// One redactor for every artifact: app keys, passphrases, their encrypted forms, private-key
// PEM blocks and SSH credentials are replaced before anything is written or printed.

export const REDACTED = '«redacted»';
const PRIVATE_KEY_PEM = /-----BEGIN ([A-Z0-9 ]+ )?PRIVATE KEY-----[\s\S]*?-----END ([A-Z0-9 ]+ )?PRIVATE KEY-----/g;
/** Shorter strings would redact ordinary words; every secret the harness makes is longer. */
const MIN_SECRET = 6;
/**
 * Fields whose value is a secret whatever it is (config.json's appKey and passphrases, the appKey
 * header, SSH credentials): a backstop for a value nobody registered.
 */
const SECRET_FIELD = /^(app_?key|key_passphrase|passphrase|password|private_?key)$/i;

export class Redactor {
  readonly #secrets = new Set<string>();
  /**
   * The secrets in groups, each matched by one pattern (see alternation), sized like a binary
   * counter's bits: an add compiles O(log n) secrets on average instead of every one (a run adds
   * secrets scenario by scenario, and recompiling them all each time grew with the square of the
   * run). No secret contains one of another group, so group by group replaces what one pattern would.
   */
  #groups: Array<{ secrets: string[]; pattern?: RegExp }> = [];

  /** Registers secret values (clear or encrypted); their JSON-escaped forms are covered too. */
  add(...values: Array<string | undefined>): this {
    for (const v of values) {
      if (!v || v.length < MIN_SECRET) continue;
      this.#insert(v);
      this.#insert(JSON.stringify(v).slice(1, -1));
    }
    return this;
  }

  #insert(secret: string): void {
    if (this.#secrets.has(secret)) return;
    const overlaps = [...this.#secrets].some((x) => x.includes(secret) || secret.includes(x));
    this.#secrets.add(secret);
    if (overlaps) {
      // One pattern for all: a secret containing another must be matched whole, longest first.
      this.#groups = [{ secrets: [...this.#secrets] }];
      return;
    }
    let group = { secrets: [secret] };
    while (this.#groups.length > 0 && this.#groups.at(-1)!.secrets.length <= group.secrets.length) {
      group = { secrets: [...this.#groups.pop()!.secrets, ...group.secrets] };
    }
    this.#groups.push(group);
  }

  text(s: string): string {
    let out = s.replace(PRIVATE_KEY_PEM, REDACTED);
    for (const group of this.#groups) out = out.replace((group.pattern ??= new RegExp(alternation(group.secrets), 'g')), REDACTED);
    return out;
  }

  /** A deep copy with every string redacted (keys too: a secret could be used as a key). */
  value<T>(v: T): T {
    if (typeof v === 'string') return this.text(v) as T;
    if (Array.isArray(v)) return v.map((x) => this.value(x)) as T;
    if (v && typeof v === 'object' && !Buffer.isBuffer(v)) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [
        this.text(k),
        SECRET_FIELD.test(k) && typeof x === 'string' && x !== '' ? REDACTED : this.value(x),
      ])) as T;
    }
    return v;
  }
}

/**
 * The strings as one regular expression that matches the longest of them at a position (a secret
 * containing another is replaced whole), factored as a trie: a run registers a few hundred secrets,
 * many with a common prefix (the encrypted forms), and a flat a|b|c… tries each of them at every
 * character of every string the reports write.
 */
export function alternation(strings: Iterable<string>): string {
  interface Node { next: Map<string, Node>; end: boolean }
  const root: Node = { next: new Map(), end: false };
  for (const s of strings) {
    let node = root;
    for (const ch of s) {
      let child = node.next.get(ch);
      if (!child) node.next.set(ch, (child = { next: new Map(), end: false }));
      node = child;
    }
    node.end = true;
  }
  const escape = (ch: string) => ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const pattern = (node: Node): string => {
    const branches = [...node.next].map(([ch, child]) => escape(ch) + pattern(child));
    if (branches.length === 0) return '';
    // Greedy: a longer secret wins over one that ends here.
    const group = branches.length === 1 ? branches[0]! : `(?:${branches.join('|')})`;
    return node.end ? `(?:${group})?` : group;
  };
  return pattern(root) || '(?!)';
}

/**
 * Content as text, or undefined for bytes that are not UTF-8 text: binary attachments are not
 * text the harness produced, and are left byte for byte.
 */
export function textOf(content: string | Buffer): string | undefined {
  const text = content.toString(); // a Buffer's toString() is UTF-8
  return text.includes('\uFFFD') ? undefined : text;
}

/** Writes an artifact through the redactor, to a temp name then renamed, so a reader never sees half a file. */
export async function writeRedacted(path: string, text: string, redactor: Redactor): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(`${path}.tmp`, redactor.text(text));
  await rename(`${path}.tmp`, path);
  return path;
}

/**
 * Redacts, in place, every text file under `dir` that other tools wrote (allure-mocha's results):
 * defence in depth behind the redacted values those tools were given. Returns how many files it
 * had to change.
 */
export async function redactTree(dir: string, redactor: Redactor): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const changed = await Promise.all(entries.filter((e) => e.isFile()).map(async (e) => {
    const path = join(e.parentPath, e.name);
    const text = textOf(await readFile(path));
    if (text === undefined) return false;
    const clean = redactor.text(text);
    if (clean === text) return false;
    await writeFile(path, clean);
    return true;
  }));
  return changed.filter(Boolean).length;
}
