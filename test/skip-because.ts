import type { Context } from 'mocha';

/**
 * `this.skip()` with the reason in what mocha prints (it prints a skipped test's title only): in a
 * test, its title; in a `before` hook, the title of every test the hook's suite then skips.
 */
export function skipBecause(ctx: Context, reason: string): never {
  const runnable = ctx.test!;
  const skipped = (runnable as { type?: string }).type === 'hook' ? runnable.parent!.tests : [runnable];
  for (const t of skipped) t.title = `${t.title} (skipped: ${reason})`;
  return ctx.skip();
}
