import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Family } from './model.ts';

// The scenario catalogue: every scenarios/*.ts file default-exports one family.

export const SCENARIOS_DIR = fileURLToPath(new URL('../../scenarios/', import.meta.url));
/** Every target must connect to this one before any other scenario is judged. */
export const SANITY_ID = 'baseline.sanity';

export async function loadFamilies(dir = SCENARIOS_DIR): Promise<Family[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.ts')).sort();
  const families: Family[] = [];
  for (const f of files) {
    // The catalogue's own files by a relative path with one variable part: a bundler (harness/launch.mjs) bundles them all.
    const mod = (await (dir === SCENARIOS_DIR ? import(`../../scenarios/${f}`) : import(pathToFileURL(join(dir, f)).href))) as { default?: Family };
    if (!mod.default || !Array.isArray(mod.default.scenarios)) throw new Error(`${join(dir, f)}: does not default-export a family(...)`);
    families.push(mod.default);
  }
  // The sanity family first, so a report reads in the order the run gates.
  return families.sort((a, b) => Number(hasSanity(b)) - Number(hasSanity(a)));
}

function hasSanity(f: Family): boolean {
  return f.scenarios.some((s) => s.id === SANITY_ID);
}
