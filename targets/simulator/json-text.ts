// JSON (RFC 8259) read by hand rather than with JSON.parse: V8 gives no position for some errors
// ("Unexpected token"), and the EMS names line:column for every one, in words that never quote
// the file (its values may be secrets). The values are JSON.parse's: same numbers, escapes,
// own `__proto__` members, the last of duplicate members.

/** Where the text stops being JSON (a UTF-16 offset) and what was expected there. */
export class JsonSyntaxError extends Error {
  override name = 'JsonSyntaxError';

  constructor(readonly offset: number, readonly reason: string) {
    super(`${reason} (offset ${offset})`);
  }
}

/** config.json nests a few levels; the limit keeps an absurd file an error, not a stack overflow. */
const MAX_DEPTH = 1000;

const ESCAPES = new Map([['"', '"'], ['\\', '\\'], ['/', '/'], ['b', '\b'], ['f', '\f'], ['n', '\n'], ['r', '\r'], ['t', '\t']]);

export function parseJson(text: string): unknown {
  return new JsonParser(text).document();
}

class JsonParser {
  private at = 0;

  constructor(private readonly text: string) {}

  document(): unknown {
    const value = this.value(0);
    this.skipSpace();
    if (this.at < this.text.length) this.fail('unexpected text after the JSON value');
    return value;
  }

  private value(depth: number): unknown {
    this.skipSpace();
    const c = this.text[this.at];
    if (c === '{') return this.object(depth + 1);
    if (c === '[') return this.array(depth + 1);
    if (c === '"') return this.string();
    if (c === '-' || isDigit(c)) return this.number();
    if (c === 't') return this.word('true', true);
    if (c === 'f') return this.word('false', false);
    if (c === 'n') return this.word('null', null);
    return this.fail('expected a value');
  }

  private object(depth: number): Record<string, unknown> {
    this.enter(depth);
    const members: [string, unknown][] = [];
    this.skipSpace();
    if (this.eat('}')) return {};
    for (;;) {
      this.skipSpace();
      if (this.text[this.at] !== '"') this.fail('expected a member name in double quotes');
      const name = this.string();
      this.skipSpace();
      if (!this.eat(':')) this.fail("expected ':' after a member name");
      members.push([name, this.value(depth)]);
      this.skipSpace();
      if (this.eat(',')) continue;
      if (this.eat('}')) return Object.fromEntries(members); // own data properties, as JSON.parse makes
      this.fail("expected ',' or '}' after a member");
    }
  }

  private array(depth: number): unknown[] {
    this.enter(depth);
    const items: unknown[] = [];
    this.skipSpace();
    if (this.eat(']')) return items;
    for (;;) {
      items.push(this.value(depth));
      this.skipSpace();
      if (this.eat(',')) continue;
      if (this.eat(']')) return items;
      this.fail("expected ',' or ']' after an element");
    }
  }

  /** At the opening quote; returns the decoded string, past the closing one. */
  private string(): string {
    this.at++;
    let decoded = '';
    let run = this.at; // start of the characters not yet copied
    for (;;) {
      const code = this.text.charCodeAt(this.at);
      if (Number.isNaN(code)) this.fail('unterminated string');
      if (code === 0x22) {
        decoded += this.text.slice(run, this.at++);
        return decoded;
      }
      if (code < 0x20) this.fail('control character in a string');
      if (code === 0x5c) {
        decoded += this.text.slice(run, this.at++);
        decoded += this.escape();
        run = this.at;
      } else this.at++;
    }
  }

  /** After a backslash. */
  private escape(): string {
    const simple = ESCAPES.get(this.text[this.at] ?? '');
    if (simple !== undefined) {
      this.at++;
      return simple;
    }
    if (this.text[this.at] !== 'u') this.fail('unknown escape in a string');
    this.at++;
    const start = this.at;
    for (; this.at < start + 4; this.at++) if (!/[0-9a-fA-F]/.test(this.text[this.at] ?? '')) this.fail('expected four hex digits after \\u');
    return String.fromCharCode(parseInt(this.text.slice(start, this.at), 16)); // a lone surrogate too, as JSON.parse
  }

  private number(): number {
    const start = this.at;
    this.eat('-');
    if (!this.eat('0')) this.digits();
    if (this.eat('.')) this.digits();
    if (this.eat('e') || this.eat('E')) {
      if (!this.eat('+')) this.eat('-');
      this.digits();
    }
    return Number(this.text.slice(start, this.at));
  }

  private digits(): void {
    if (!isDigit(this.text[this.at])) this.fail('expected a digit');
    while (isDigit(this.text[this.at])) this.at++;
  }

  private word<T>(word: string, value: T): T {
    for (const c of word) {
      if (this.text[this.at] !== c) this.fail('expected true, false or null');
      this.at++;
    }
    return value;
  }

  private enter(depth: number): void {
    if (depth > MAX_DEPTH) this.fail(`nested deeper than ${MAX_DEPTH} levels`);
    this.at++; // the opening bracket
  }

  private eat(c: string): boolean {
    if (this.text[this.at] !== c) return false;
    this.at++;
    return true;
  }

  private skipSpace(): void {
    for (;;) {
      const c = this.text[this.at];
      if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r') return;
      this.at++;
    }
  }

  private fail(reason: string): never {
    throw new JsonSyntaxError(this.at, this.at < this.text.length ? reason : `unexpected end of input (${reason})`);
  }
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}
