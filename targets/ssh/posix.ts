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

/** `export K='v'; …` for an environment (names are validated by the inventory schema). */
export function shExports(env: Record<string, string>): string {
  return Object.entries(env).map(([k, v]) => `export ${k}=${shQuote(v)}; `).join('');
}

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
 * Makes the work and runs directories ($1, $2; login user only), then holds an exclusive lock on
 * $3 while stdin stays open, printing LOCKED once held. It waits a few seconds: a session of ours
 * that just died (a dropped link) may take that long to let go.
 */
export const HOLD_LOCK = `mkdir -p -- "$2" && chmod 700 -- "$1" "$2" || exit 2
command -v flock >/dev/null 2>&1 || { echo "flock is missing on the gateway (util-linux or busybox)" >&2; exit 2; }
exec flock -w 10 "$3" sh -c 'echo LOCKED; exec cat >/dev/null'`;

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

// --- scripts run in a channel opened ahead (one round trip each) --------------------------------

/**
 * The command of a channel opened ahead of need: it waits for a script on stdin (its length in
 * bytes on one line, then the script) and runs it in this shell; whatever follows on stdin is the
 * script's own input. An unused channel gets EOF and exits.
 */
export const BOOTSTRAP = shCommand('IFS= read -r n || exit 0\ns=$(head -c "$n") || exit 1\neval "$s"');

/** What to write to a BOOTSTRAP channel to run `script` with positional arguments `args`. */
export function shFrame(script: string, args: string[]): Buffer {
  const body = Buffer.from(`set -- ${args.map(shQuote).join(' ')}\n${script}\n`);
  return Buffer.concat([Buffer.from(`${body.length}\n`), body]);
}

/**
 * Shell functions the scenario scripts share. Frames for the harness are lines starting with the
 * scenario's random nonce: `say` on stdout (ordered with the EMS's own output), `tell` on stderr;
 * `harness` writes a line the error map classes as infrastructure. SIGPIPE is ignored: when the
 * harness is gone the script still cleans up.
 */
const SCENARIO_FUNCTIONS = String.raw`trap '' PIPE
say() { printf '%s %s\n' "$nonce" "$*"; }
tell() { printf '%s %s\n' "$nonce" "$*" >&2; }
harness() { printf 'harness: %s\n' "$*" >&2; }
# The files of the scenario, back to back on stdin: name, size, 1 for a public file (0644; others 0600).
receive() {
  d=$1; shift
  while [ $# -ge 3 ]; do
    head -c "$2" > "$d/$1" || return 1
    got=$(($(wc -c < "$d/$1")))
    [ "$got" -eq "$2" ] || { harness "the upload of $1 was cut short ($got of $2 bytes): the link to the harness dropped"; return 1; }
    [ "$3" = 1 ] && chmod 644 "$d/$1"
    shift 3
  done
}
port_busy() {
  [ -r /proc/net/tcp ] || return 1
  awk -v h=":$(printf '%04X' "$1")$" '$4 == "0A" && $2 ~ h { f = 1 } END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
ports() { tell ports $(awk '$4 == "0A" { n = split($2, a, ":"); print "0x" a[n] }' /proc/net/tcp /proc/net/tcp6 2>/dev/null | sort -u); }
# The scenario directory ($dir) with its files from stdin; on failure it is removed again.
prepare() {
  umask 077
  mkdir -- "$dir" || { harness "cannot create the scenario directory $dir"; exit 1; }
  receive "$dir" "$@" || { rm -rf -- "$dir"; exit 1; }
  if port_busy "$port"; then harness "the REST port $port chosen for the EMS is in use on the gateway"; rm -rf -- "$dir"; exit 1; fi
}`;

/**
 * One scenario with the harness starting the EMS (`process` mode), in one channel: the session
 * directory made and its files written from stdin, the EMS started on its config.json (its
 * stdout and stderr together on the channel's stdout), EOF on stdin (the harness stops it, its
 * connection drops, it dies) ending the EMS (SIGTERM, SIGKILL after 5 s), then the directory
 * removed and the gateway's listening ports reported. The REST check and the LSR client reach the
 * EMS through the connection's own forwards (GatewaySession.dial), not through this channel.
 * Arguments: nonce dir executable rest-port, then the files as name size public.
 */
export function processScenarioScript(env: Record<string, string>): string {
  return [
    'nonce=$1 dir=$2 exe=$3 port=$4; shift 4',
    SCENARIO_FUNCTIONS,
    '[ -x "$exe" ] || { harness "the EMS executable $exe is missing or not executable on this gateway"; exit 127; }',
    'prepare "$@"',
    'cd "$dir" || exit 1',
    'exec 3<&0',
    `${shExports(env)}"$exe" -cfg "$dir/config.json" </dev/null 2>&1 &`,
    'pid=$!',
    'echo "$pid" > "$dir/ems.pid"',
    'say started',
    String.raw`( cat >/dev/null
  grep -qF -- "$dir" "/proc/$pid/cmdline" 2>/dev/null || exit 0
  kill -TERM "$pid" 2>/dev/null; i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  kill -KILL "$pid" 2>/dev/null ) <&3 &`,
    'control=$!',
    'exec 3<&-',
    'wait "$pid"; code=$?',
    // A shell reports death by a signal as 128 + its number.
    'if [ "$code" -gt 128 ]; then say exit - "SIG$(kill -l $((code - 128)))"; else say exit "$code" -; fi',
    'kill "$control" 2>/dev/null',
    'cd / && rm -rf -- "$dir"',
    'ports',
  ].join('\n');
}

/** How a service manager is driven, as shell text (linux.ts: systemd, SysV). */
export interface ServiceShell {
  name: string;
  start: string;
  stop: string;
  /** Exits 0 while the service runs. */
  running: string;
  /** Prints the exit code of the service's main process, when the manager knows it. */
  exitCode?: string;
  /** Lines that start following the service's log from now on, in the background, to stdout; they set $follower. */
  follow: string;
  /** A command printing how many bytes the log grew since the follow began; absent: the follower's own last line tells (systemd). */
  grown?: string;
}

/**
 * One scenario on a gateway whose EMS a service manager runs, in one channel: the session
 * directory and files from stdin, the service stopped, the install's config.json replaced by the
 * scenario's (the journal holds the original), the log followed, the service started; its state
 * watched on the gateway (an exit is reported with how far the log grew, so the harness knows
 * when it has read it all); at EOF the service stopped, the original config.json put back, the
 * directory removed. Arguments: nonce dir config backup mode rest-port, then the files; backup ''
 * = the install had no config.json.
 */
export function serviceScenarioScript(svc: ServiceShell): string {
  const quiet = (cmd: string) => `{ ${cmd}; } </dev/null >"$dir/.out" 2>&1`;
  return [
    'nonce=$1 dir=$2 config=$3 backup=$4 cmode=$5 port=$6; shift 6',
    SCENARIO_FUNCTIONS,
    String.raw`said() { tr '\n' ' ' < "$dir/.out"; }
putback() {
  if [ -n "$backup" ]; then
    { cp -- "$backup" "$config.wsems-new" && chmod "$cmode" "$config.wsems-new" && mv -f -- "$config.wsems-new" "$config"; } || harness "cannot put $config back from $backup"
  else
    rm -f -- "$config"
  fi
}`,
    'prepare "$@"',
    `${quiet(svc.stop)} || { harness "cannot stop ${svc.name}: $(said)"; rm -rf -- "$dir"; exit 1; }`,
    '{ cp -- "$dir/config.json" "$config.wsems-new" && mv -f -- "$config.wsems-new" "$config"; } || { harness "cannot write $config"; putback; rm -rf -- "$dir"; exit 1; }',
    svc.follow,
    `if ! ${quiet(svc.start)}; then harness "cannot start ${svc.name}: $(said)"; ${quiet(svc.stop)}; putback; kill "$follower" 2>/dev/null; rm -rf -- "$dir"; exit 1; fi`,
    'tell started',
    `( while { ${svc.running}; } </dev/null >/dev/null 2>&1; do [ -e "$dir/.stopping" ] && exit 0; sleep 0.1; done
  [ -e "$dir/.stopping" ] && exit 0
  : > "$dir/.exited"
  tell exit "$( { ${svc.exitCode ?? 'false'}; } </dev/null 2>/dev/null | tr -d ' \\n' | grep . || echo -)" - ${svc.grown ? `"$(${svc.grown})"` : '-'} ) &`,
    'watcher=$!',
    'cat >/dev/null',
    ': > "$dir/.stopping"',
    `${quiet(svc.stop)} || harness "cannot stop ${svc.name}: $(said)"`,
    'kill "$watcher" 2>/dev/null; wait "$watcher" 2>/dev/null',
    '[ -e "$dir/.exited" ] || tell exit - -',
    'putback',
    'kill "$follower" 2>/dev/null',
    'rm -rf -- "$dir"',
    'ports',
  ].join('\n');
}

/**
 * The target EMS's `-encrypt` for every argument, in one go: per secret a frame with its exit
 * code and the last line of its output, then one with the last line of its stderr. Arguments:
 * nonce install-dir executable, then the secrets.
 */
export function encryptAllScript(env: Record<string, string>): string {
  return [
    'nonce=$1; cd "$2" || exit 1; exe=$3; shift 3',
    shExports(env),
    'e=$(mktemp) || exit 1',
    String.raw`for s; do
  out=$("$exe" -encrypt "$s" 2>"$e"); code=$?
  printf '%s %s %s\n' "$nonce" "$code" "$(printf '%s\n' "$out" | awk 'NF { l = $0 } END { print l }')"
  printf '%s err %s\n' "$nonce" "$(awk 'NF { l = $0 } END { print l }' "$e")"
done
rm -f "$e"`,
  ].join('\n');
}
