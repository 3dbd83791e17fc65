import type { LsrWarning } from '../scenario/local-server-model.ts';
import type { ErrorMapEntry, WarningEntry } from '../scenario/target.ts';
import { levelOf } from './log-shape.ts';

// The EMS's warnings about insecure settings (LSR-WARN; EMS-FACTS "The EMS's local HTTP server":
// "The EMS and LSR log warnings when SSL, authentication or certificate validation is disabled, or
// when self-signed certificates are allowed"). Their exact words are not public: a target's
// inventory `warningMap` names its build's lines and is tried first; this default map only knows
// the vendor's wording on WARN-level lines (docs/target-profiles.md "Warning maps").

/** A WARN-level line, as logged or as a result's excerpt shows it (`+12ms ` first). */
const WARN = String.raw`^(?:\+\d+ms )?\[WARN\s*\].*`;

/** First match wins: the narrower wordings (validation, self-signed) before "SSL … disabled". */
export const DEFAULT_WARNING_MAP: WarningEntry[] = [
  { pattern: String.raw`${WARN}\b[Ss]elf[- ][Ss]igned\b.*\b(allowed|accepted|enabled|on)\b`, warning: 'self-signed-allowed' },
  { pattern: String.raw`${WARN}\b[Vv]alidation\b.*\b(disabled|off|not enabled)\b`, warning: 'validate-off' },
  { pattern: String.raw`${WARN}\b[Aa]uthentication\b.*\b(disabled|off|not enabled)\b`, warning: 'authenticate-off' },
  { pattern: String.raw`${WARN}\b(SSL|TLS|HTTPS)\b.*\b(disabled|off|not enabled)\b`, warning: 'ssl-off' },
];

const compiled = new Map<string, RegExp>();
const regex = (pattern: string) => compiled.get(pattern) ?? compiled.set(pattern, new RegExp(pattern)).get(pattern)!;

export interface SeenWarnings {
  /** Each warning logged, with the first line that said it. */
  logged: Array<{ warning: LsrWarning; line: string }>;
  /** WARN-level lines no entry matched: where a missing warningMap entry would start. */
  otherWarnLines: string[];
}

/** The warnings among `lines`: the target's own entries first, then the default map. */
export function warningsIn(lines: readonly string[], own: readonly WarningEntry[] = []): SeenWarnings {
  const logged: SeenWarnings['logged'] = [];
  const otherWarnLines: string[] = [];
  for (const line of lines) {
    const entry = own.find((e) => regex(e.pattern).test(line)) ?? DEFAULT_WARNING_MAP.find((e) => regex(e.pattern).test(line));
    if (entry && !logged.some((w) => w.warning === entry.warning)) logged.push({ warning: entry.warning, line: line.trim() });
    else if (!entry && levelOf(line)?.startsWith('WARN')) otherWarnLines.push(line.trim());
  }
  return { logged, otherWarnLines };
}

/** Warning lines as known lines for triage: they decide nothing and need no errorMap entry. */
export function warningLinesAsKnown(profile: { warningMap?: ReadonlyArray<{ pattern: string }> }): ErrorMapEntry[] {
  return [...(profile.warningMap ?? []), ...DEFAULT_WARNING_MAP].map((w) => ({ pattern: w.pattern, class: 'context' }));
}
