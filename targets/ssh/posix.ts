// POSIX shell command building for Linux gateways. sshd hands the command string to the login
// shell; every command here is `exec sh -c '<script>' <name> <args…>` with every argument
// single-quoted, so no value (a path with spaces, a secret with quotes) is ever re-parsed.

/** One shell word: single-quoted, embedded single quotes as '\''. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A script and its positional arguments ($1…) as one command string for exec. */
export function shCommand(script: string, args: string[] = []): string {
  return ['exec', 'sh', '-c', shQuote(script), 'wsems-harness', ...args.map(shQuote)].join(' ');
}

/**
 * Script lines that run "$@" so that it ends when the SSH channel's stdin closes: the harness
 * closing the channel, its connection dropping or its process dying all end it. A watcher holds
 * the channel's stdin; at EOF it signals the command, which by then has replaced this shell
 * (same pid), but only if that pid still runs something naming `token` (a shell expression):
 * a pid reused after a normal exit is left alone. The command gets /dev/null as stdin.
 */
export function untilEof(token: string): string {
  return `exec 3<&0 </dev/null
( cat <&3 >/dev/null 2>&1; grep -qF -- ${token} /proc/$$/cmdline 2>/dev/null && kill -TERM $$ ) >/dev/null 2>&1 &
exec 3<&-
exec "$@"`;
}

/** Runs $2… until the channel closes ($1: a string its command line contains). */
export const FOLLOW = `token=$1; shift
${untilEof('"$token"')}`;

/** `export K='v'; …` for an environment (names are validated by the inventory schema). */
export function shExports(env: Record<string, string>): string {
  return Object.entries(env).map(([k, v]) => `export ${k}=${shQuote(v)}; `).join('');
}

/** Starts the EMS ($2…) in its session directory ($1), records its pid there, ends it with the channel. */
export function emsProcessScript(env: Record<string, string>): string {
  return [
    'dir=$1; shift',
    `[ -x "$1" ] || { echo "harness: the EMS executable $1 is missing or not executable on this gateway" >&2; exit 127; }`,
    'cd "$dir" || exit 127',
    'echo $$ > "$dir/ems.pid"',
    shExports(env),
    untilEof('"$dir"'),
  ].join('\n');
}

/** Sends `signal` to the pid in `pidfile` if that process still names `token` (it is ours). */
export const KILL_IF_OURS = `pidfile=$1; token=$2; sig=$3
[ -f "$pidfile" ] || exit 0
pid=$(cat "$pidfile")
[ -n "$pid" ] && grep -qF -- "$token" /proc/$pid/cmdline 2>/dev/null && kill -"$sig" "$pid" && echo "sent SIG$sig to EMS pid $pid ($token)"
exit 0`;

/** Ends leftover EMS processes of every run directory, then removes the directories. */
export const CLEAR_RUNS = `runs=$1
[ -d "$runs" ] || exit 0
for d in "$runs"/*/; do
  [ -d "$d" ] || continue
  d=\${d%/}
  if [ -f "$d/ems.pid" ]; then
    pid=$(cat "$d/ems.pid")
    if [ -n "$pid" ] && grep -qF -- "$d" /proc/$pid/cmdline 2>/dev/null; then
      kill -KILL "$pid" && echo "stopped leftover EMS pid $pid of $d"
    fi
  fi
  rm -rf -- "$d" && echo "removed $d"
done
exit 0`;

/**
 * Holds an exclusive lock on $1 while stdin stays open; prints LOCKED once held. It waits a few
 * seconds: a session of ours that just died (a dropped link) may take that long to let go.
 */
export const HOLD_LOCK = `command -v flock >/dev/null 2>&1 || { echo "flock is missing on the gateway (util-linux or busybox)" >&2; exit 2; }
exec flock -w 10 "$1" sh -c 'echo LOCKED; exec cat >/dev/null'`;

/** Prints the first line the gateway reads from a TCP connection to $1:$2; exit 100 when it has no tool to try. */
export const PROBE_TCP = `host=$1; port=$2
t=''; command -v timeout >/dev/null 2>&1 && t='timeout 5'
if command -v bash >/dev/null 2>&1; then $t bash -c 'exec 3<>"/dev/tcp/$0/$1" && head -n 1 <&3' "$host" "$port"
elif command -v nc >/dev/null 2>&1; then nc -w 5 "$host" "$port" </dev/null | head -n 1
else exit 100
fi`;

/** The listening ports in /proc/net/tcp{,6} text: local address column `HEXIP:HEXPORT`, state 0A = LISTEN. */
export function listeningPorts(procNetTcp: string): number[] {
  const ports: number[] = [];
  for (const line of procNetTcp.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[3] === '0A' && f[1]?.includes(':')) ports.push(parseInt(f[1].split(':').pop()!, 16));
  }
  return ports;
}
