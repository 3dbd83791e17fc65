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
  /** All secrets as one pattern, longest first (a secret containing another is replaced whole); rebuilt on add. */
  #pattern: RegExp | undefined;

  /** Registers secret values (clear or encrypted); their JSON-escaped forms are covered too. */
  add(...values: Array<string | undefined>): this {
    for (const v of values) {
      if (!v || v.length < MIN_SECRET) continue;
      this.#secrets.add(v);
      const escaped = JSON.stringify(v).slice(1, -1);
      if (escaped !== v) this.#secrets.add(escaped);
      this.#pattern = undefined;
    }
    return this;
  }

  text(s: string): string {
    const out = s.replace(PRIVATE_KEY_PEM, REDACTED);
    if (this.#secrets.size === 0) return out;
    this.#pattern ??= new RegExp(
      [...this.#secrets].sort((a, b) => b.length - a.length).map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'),
      'g',
    );
    return out.replace(this.#pattern, REDACTED);
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

/** Writes an artifact through the redactor, to a temp name then renamed, so a reader never sees half a file. */
export async function writeRedacted(path: string, text: string, redactor: Redactor): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(`${path}.tmp`, redactor.text(text));
  await rename(`${path}.tmp`, path);
  return path;
}

/**
 * Redacts, in place, every text file under `dir` that other tools wrote (allure-mocha's results):
 * defence in depth behind the redacted values those tools were given.
 */
export async function redactTree(dir: string, redactor: Redactor): Promise<void> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  await Promise.all(entries.filter((e) => e.isFile()).map(async (e) => {
    const path = join(e.parentPath, e.name);
    const text = await readFile(path, 'utf8');
    // Binary attachments are not text the harness produced; leave them byte for byte.
    if (text.includes('\uFFFD')) return;
    const clean = redactor.text(text);
    if (clean !== text) await writeFile(path, clean);
  }));
}
