import type { EmsProcess, Target, TargetSession } from '../harness/scenario/target.ts';

// A real target with one part of it seen or replaced, for tests: every call reaches the real
// driver (its private state included) unless a hook takes it.

export interface TargetHooks {
  /** Each session the run opens, as it opens it (return it, or a stand-in). */
  session?: (s: TargetSession) => TargetSession;
  /** Each EMS a session starts. */
  ems?: (p: EmsProcess) => EmsProcess;
}

export function wrapTarget(target: Target, hooks: TargetHooks): Target {
  const ems = hooks.ems ?? ((p: EmsProcess) => p);
  const session = (s: TargetSession): TargetSession => (hooks.session ?? ((x) => x))(
    override(s, { start: async (json: string) => ems(await s.start(json)) }),
  );
  return override(target, { openSession: async (id: string) => session(await target.openSession(id)) });
}

/** `o` with some members replaced; the rest still called on `o` itself. */
export function override<T extends object>(o: T, members: Partial<T>): T {
  return new Proxy(o, {
    get(t, k) {
      if (Object.hasOwn(members, k)) return (members as Record<string | symbol, unknown>)[k];
      const v = Reflect.get(t, k, t) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}
