// One redactor for every artifact: app keys, passphrases, their encrypted forms, private-key
// PEM blocks and SSH credentials are replaced before anything is written or printed.

export const REDACTED = '«redacted»';
const PRIVATE_KEY_PEM = /-----BEGIN ([A-Z0-9 ]+ )?PRIVATE KEY-----[\s\S]*?-----END ([A-Z0-9 ]+ )?PRIVATE KEY-----/g;
/** Shorter strings would redact ordinary words; every secret the harness makes is longer. */
const MIN_SECRET = 6;

export class Redactor {
  readonly #secrets = new Set<string>();

  /** Registers secret values (clear or encrypted); their JSON-escaped forms are covered too. */
  add(...values: Array<string | undefined>): this {
    for (const v of values) {
      if (!v || v.length < MIN_SECRET) continue;
      this.#secrets.add(v);
      const escaped = JSON.stringify(v).slice(1, -1);
      if (escaped !== v) this.#secrets.add(escaped);
    }
    return this;
  }

  text(s: string): string {
    let out = s.replace(PRIVATE_KEY_PEM, REDACTED);
    // Longest first, so a secret that contains another is replaced whole.
    for (const secret of [...this.#secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join(REDACTED);
    return out;
  }

  /** A deep copy with every string redacted (keys too: a secret could be used as a key). */
  value<T>(v: T): T {
    if (typeof v === 'string') return this.text(v) as T;
    if (Array.isArray(v)) return v.map((x) => this.value(x)) as T;
    if (v && typeof v === 'object' && !Buffer.isBuffer(v)) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [this.text(k), this.value(x)])) as T;
    }
    return v;
  }
}
