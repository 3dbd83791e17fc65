import { findForm, secretForms } from './secret-forms.ts';

// SECRET-ENCRYPT, strength part: the target's `wsems -encrypt` output must not reveal the clear
// value: not contain it, and not turn back into it (or into a text containing it) by a plain
// decoding: base64, base64url, hex, URL-encoding, anywhere in the output and at any alignment,
// two decodings deep (base64 of hex …). Whether two encryptions of the same value are equal is
// recorded, not judged (a deterministic scheme is not forbidden by the requirement).

export type Decoding = 'url' | 'base64' | 'base64url' | 'hex';

/** Decodings tried below a revealing chain this long are not (three plain encodings deep reveal nothing new). */
const DEPTH = 2;
/** Shorter runs decode to a few bytes: they can hold no secret long enough to search for. */
const MIN_RUN = 4;

/**
 * How `output` gives `clear` away: [] when it contains it as it is, the decodings in order when
 * they reveal it (`['base64']`, `['base64', 'hex']`), undefined when none does.
 */
export function revealedBy(output: string, clear: string, depth = DEPTH): Decoding[] | undefined {
  const forms = secretForms(clear);
  const direct = findForm(output, forms);
  if (direct) return direct.form.encoding === 'clear' ? [] : [formDecoding(direct.form.encoding)];
  if (depth === 0) return undefined;
  for (const [decoding, decoded] of decodings(output)) {
    const rest = revealedBy(decoded, clear, depth - 1);
    if (rest) return [decoding, ...rest];
  }
  return undefined;
}

function formDecoding(encoding: string): Decoding {
  return encoding === 'url-encoded' ? 'url' : (encoding as Decoding);
}

/** Every plain decoding of the text and of its runs of each alphabet, at each alignment, as latin1 text. */
function* decodings(text: string): Generator<[Decoding, string]> {
  const url = percentDecoded(text);
  if (url !== text) yield ['url', url];
  for (const run of runs(text, /[A-Za-z0-9+/]+={0,2}/g)) {
    for (let at = 0; at < 4 && run.length - at >= MIN_RUN; at++) yield ['base64', Buffer.from(run.slice(at), 'base64').toString('latin1')];
  }
  for (const run of runs(text, /[A-Za-z0-9_-]+/g)) {
    for (let at = 0; at < 4 && run.length - at >= MIN_RUN; at++) yield ['base64url', Buffer.from(run.slice(at), 'base64url').toString('latin1')];
  }
  for (const run of runs(text, /[0-9A-Fa-f]+/g)) {
    for (let at = 0; at < 2 && run.length - at >= MIN_RUN; at++) yield ['hex', Buffer.from(run.slice(at, at + ((run.length - at) & ~1)), 'hex').toString('latin1')];
  }
}

function runs(text: string, re: RegExp): string[] {
  return [...new Set((text.match(re) ?? []).filter((r) => r.length >= MIN_RUN))];
}

/** %XX sequences decoded (malformed ones left as they are), as bytes read as latin1 then UTF-8. */
function percentDecoded(text: string): string {
  if (!text.includes('%') && !text.includes('+')) return text;
  const bytes = Buffer.from(text.replace(/\+/g, ' ').replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
  return bytes.toString('utf8');
}

export interface EncryptionRecord {
  /** What was encrypted, in words (never its value). */
  kind: string;
  /** Two encryptions of the same value gave the same output (recorded, not judged). */
  deterministic: boolean;
  /** Set when the output gives the clear value away: `contains the clear value`, `base64 decoding gives it` … */
  reveals?: string;
}

/** The strength check of one secret's `-encrypt` output (the first of two runs) and the record of both. */
export function checkEncryption(kind: string, clear: string, first: string, second: string): EncryptionRecord {
  const chain = revealedBy(first, clear);
  const reveals = chain === undefined ? undefined : chain.length === 0 ? 'contains the clear value' : `${chain.join(' then ')} decoding gives the clear value back`;
  return { kind, deterministic: first === second, ...(reveals ? { reveals } : {}) };
}
