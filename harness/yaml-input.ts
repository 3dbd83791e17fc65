import { parse as parseYaml, YAMLParseError } from 'yaml';
import type * as z from 'zod';
import { formatIssues } from './scenario/model.ts';

/**
 * A YAML input file through its zod schema: errors name the file, and the line:column of a
 * syntax error or the field of a schema error.
 */
export function parseYamlFile<S extends z.ZodType>(text: string, file: string, schema: S): z.output<S> {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    const where = e instanceof YAMLParseError && e.linePos ? `:${e.linePos[0].line}:${e.linePos[0].col}` : '';
    throw new Error(`${file}${where}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new Error(`${file}: ${formatIssues(parsed.error)}`);
  return parsed.data;
}
