import type { EncryptionRecord } from '../ems/encryption-strength.ts';
import { findLeaks, leakText, MIN_SEARCHED_LENGTH, type Leak, type LoggedLine, type ScenarioSecret, type SecretKind } from '../ems/secret-leaks.ts';
import type { RequirementId } from './requirements.ts';
import type { Judgement } from './verdict.ts';

// The checks every scenario gets besides its own expectation, whatever its family:
// SECRET-NOLOG (no clear secret, nor a plain encoding of one, in anything the EMS wrote) and
// SECRET-ENCRYPT's strength part (no `-encrypt` output that gives its clear value away). A failure
// fails the scenario, naming the requirement, and the result then names that requirement too.

/** What the checks looked at, in every result's evidence (kinds and counts, never values). */
export interface SecretEvidence {
  /** The kinds of secret the EMS output was searched for (each once). */
  searched: SecretKind[];
  /** How many lines the EMS wrote, all searched (the excerpt shows only the last ones). */
  lines: number;
  leaks: Leak[];
  /** Each `-encrypt` asked for while rendering: whether two runs agreed, and what gave it away. */
  encryptions: EncryptionRecord[];
}

export interface SecretFailure {
  requirement: RequirementId;
  text: string;
}

/**
 * `revealed`: the texts that gave a secret away (an encoded form, a fragment), for the run's
 * redactor: the log excerpt of the result still holds the raw line.
 */
export function checkSecrets(
  secrets: readonly ScenarioSecret[], encryptions: readonly EncryptionRecord[], lines: readonly LoggedLine[],
): { evidence: SecretEvidence; failures: SecretFailure[]; revealed: string[] } {
  const found = findLeaks(lines, secrets);
  const leaks: Leak[] = found.map(({ matched: _, ...leak }) => leak);
  const searched = [...new Set(secrets.filter((s) => s.value.length >= MIN_SEARCHED_LENGTH).map((s) => s.kind))];
  const failures: SecretFailure[] = [
    ...leaks.map((l) => ({ requirement: 'SECRET-NOLOG' as const, text: leakText(l) })),
    ...encryptions.filter((e) => e.reveals).map((e) => ({ requirement: 'SECRET-ENCRYPT' as const, text: `wsems -encrypt output for the ${e.kind} ${e.reveals}` })),
  ];
  return { evidence: { searched, lines: lines.length, leaks, encryptions: [...encryptions] }, failures, revealed: found.map((l) => l.matched) };
}

/**
 * The scenario's judgement with the secret checks' failures folded in: failed, each named by its
 * requirement first. Which member of an expectation set held, and weak crypto accepted, stay recorded.
 */
export function withSecretFailures(j: Judgement, failures: readonly SecretFailure[]): Judgement {
  if (failures.length === 0) return j;
  const shown = failures.slice(0, 3).map((f) => `${f.requirement}: ${f.text}`);
  if (failures.length > 3) shown.push(`and ${failures.length - 3} more (evidence.secrets)`);
  const own = j.status === 'passed' ? [] : [`also: ${j.message ?? j.status}`];
  return { ...j, status: 'failed', message: [...shown, ...own].join('; ') };
}

/** The result's requirements with those a secret check failed on added (the matrix then shows the failure in their row). */
export function requirementsWith(requirements: readonly RequirementId[], failures: readonly SecretFailure[]): RequirementId[] {
  return [...new Set([...requirements, ...failures.map((f) => f.requirement)])];
}
