import { findForm, secretForms, type Encoding, type SecretForm } from './secret-forms.ts';

// SECRET-NOLOG: every line the EMS wrote during a scenario (log and console, every stream the
// target streamed, not only the report's excerpt) searched for the scenario's clear secrets and
// their plain encodings. A finding says where (stream, line number) and shows the line with the
// secret replaced, so the evidence never carries it.

/** What a secret is, in words a finding and a report may show (never its value). */
export type SecretKind = 'app key' | 'key passphrase' | 'http_server password' | 'http_server passphrase';

export interface ScenarioSecret {
  kind: SecretKind;
  value: string;
  /**
   * Made by the harness from random bytes (the app key, the catalogue's passphrases): a long
   * fragment of it is a leak too (a mask that hides only the end). A literal (a deliberately wrong
   * passphrase) is searched for whole only.
   */
  random: boolean;
}

export interface LoggedLine {
  text: string;
  /** Which stream of the EMS it came on (stdout, stderr, a log file), when the driver knows. */
  stream?: string;
}

export interface Leak {
  kind: SecretKind;
  encoding: Encoding | 'fragment';
  /** 1-based: the line's number in its stream (in all the EMS wrote, when the driver names no stream). */
  line: number;
  stream?: string;
  /** The line with the secret replaced by ‹kind›. */
  redacted: string;
}

/** Shorter secrets are not searched: every short word would be a "leak" (the redactor skips them too). */
export const MIN_SEARCHED_LENGTH = 6;
/**
 * The C SDK logs the first four characters of the app key (`appKey: 55lK****`): that is not a
 * leak. A fragment of a random secret this long (half of it, at least 12 characters) is.
 */
const FRAGMENT = (length: number) => Math.max(12, Math.ceil(length / 2));

interface Searched {
  secret: ScenarioSecret;
  forms: SecretForm[];
  fragments: string[];
}

/** The secrets worth searching for (long enough), with every form and fragment precomputed. */
export function searchable(secrets: readonly ScenarioSecret[]): Searched[] {
  const seen = new Set<string>();
  return secrets.filter((s) => s.value.length >= MIN_SEARCHED_LENGTH && !seen.has(s.value) && seen.add(s.value)).map((secret) => {
    const n = FRAGMENT(secret.value.length);
    const fragments: string[] = [];
    if (secret.random && n < secret.value.length) for (let i = 0; i + n <= secret.value.length; i++) fragments.push(secret.value.slice(i, i + n));
    return { secret, forms: secretForms(secret.value), fragments };
  });
}

/** A finding with the text that matched: for the redactor only, never for a report. */
export interface FoundLeak extends Leak {
  matched: string;
}

/** Every line holding a secret or one of its plain encodings; one finding per line and secret. */
export function findLeaks(lines: readonly LoggedLine[], secrets: readonly ScenarioSecret[]): FoundLeak[] {
  const wanted = searchable(secrets);
  const leaks: FoundLeak[] = [];
  const counted = new Map<string | undefined, number>();
  for (const line of lines) {
    const number = (counted.get(line.stream) ?? 0) + 1;
    counted.set(line.stream, number);
    for (const { secret, forms, fragments } of wanted) {
      const hit = findForm(line.text, forms);
      const fragment = hit ? undefined : fragments.find((f) => line.text.includes(f));
      if (!hit && fragment === undefined) continue;
      const shown = hit ? { encoding: hit.form.encoding, text: line.text.slice(hit.index, hit.index + hit.form.text.length) } : { encoding: 'fragment' as const, text: fragment! };
      leaks.push({
        kind: secret.kind,
        encoding: shown.encoding,
        line: number,
        ...(line.stream ? { stream: line.stream } : {}),
        redacted: redactLine(line.text, [...forms.map((f) => f.text), ...fragments, shown.text], secret.kind),
        matched: shown.text,
      });
    }
  }
  return leaks;
}

/** Every occurrence of any of `texts` (longest first, hex without case) replaced by ‹kind›. */
function redactLine(line: string, texts: string[], kind: SecretKind): string {
  const escaped = [...new Set(texts)].sort((a, b) => b.length - a.length).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return line.replace(new RegExp(escaped.join('|'), 'gi'), `‹${kind}›`);
}

/** A finding in words: `SECRET-NOLOG: the app key (base64) in stdout line 12: "[TRACE] … ‹app key›"`. */
export function leakText(leak: Leak): string {
  const how = leak.encoding === 'clear' ? '' : leak.encoding === 'fragment' ? ' (a fragment of it)' : ` (${leak.encoding})`;
  return `the ${leak.kind}${how} in ${leak.stream ?? 'EMS output'} line ${leak.line}: ${JSON.stringify(leak.redacted)}`;
}
