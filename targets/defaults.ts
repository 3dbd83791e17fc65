import { fileURLToPath } from 'node:url';

// Where the defaults are, apart from the inventory's schema and drivers: the command line names
// them before it loads anything else (harness/cli.ts).

export const DEFAULT_INVENTORY = fileURLToPath(new URL('./default-inventory.yaml', import.meta.url));
/** Known divergences of the default targets, one <target>.yaml each (docs/reports.md). */
export const DEFAULT_EXPECTATIONS_DIR = fileURLToPath(new URL('./expectations/', import.meta.url));
