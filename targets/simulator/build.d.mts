/** Builds the simulator unless the recorded build is up to date (build.mjs); resolves whether it built. */
export function buildSimulator(options?: { force?: boolean }): Promise<boolean>;
