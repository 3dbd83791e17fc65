import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';

// The JVM behind every jsse-java7 endpoint: JsseFront.java (no build step of ours), one per
// harness process and Java 7 DH size, started on first use, and asked over a JSON-lines control
// protocol to open one listener per scenario endpoint. A JVM start costs far more than a listener
// (docs/java7-endpoint.md has the numbers), so scenarios share it.

const FRONT = fileURLToPath(new URL('./JsseFront.java', import.meta.url));
/** Compiled fronts, one directory per source hash (node_modules/.cache: ignored, gone with `npm ci`). */
const CLASS_CACHE = fileURLToPath(new URL('../../../node_modules/.cache/jsse-front/', import.meta.url));
const SECURITY = fileURLToPath(new URL('./java7.security', import.meta.url));
/** A JVM that has not said "ready" by then will not (it compiles the front first). */
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 3000;
const STDERR_TAIL = 2000;

/** The ephemeral DH sizes a Java 7 server used: 768 until 7u-later updates, which moved to 1024 (its maximum). */
export const JAVA7_DH_BITS = [768, 1024] as const;
export type Java7DhBits = (typeof JAVA7_DH_BITS)[number];

/**
 * How `java` runs the front: from classes compiled once per source into the cache (a start then
 * costs 0.07 s of CPU instead of 0.7 s: the source launcher compiles at every start), or from the
 * source when javac is missing or fails (the launcher reports what it cannot compile).
 */
export type FrontLaunch = { classpath: string } | { source: string };

let compiled: Promise<FrontLaunch> | undefined;
export function frontLaunch(): Promise<FrontLaunch> {
  compiled ??= compileFront().catch(() => ({ source: FRONT }));
  return compiled;
}

async function compileFront(): Promise<FrontLaunch> {
  const hash = createHash('sha256').update(await readFile(FRONT)).digest('hex').slice(0, 16);
  const dir = join(CLASS_CACHE, hash);
  if (await stat(join(dir, 'JsseFront.class')).catch(() => undefined)) return { classpath: dir };
  await mkdir(CLASS_CACHE, { recursive: true });
  // Compiled aside and renamed into place: another run may be compiling or starting from it.
  const tmp = await mkdtemp(join(CLASS_CACHE, `.${hash}-`));
  try {
    await promisify(execFile)(javaTool('javac'), ['-d', tmp, FRONT]);
    await rename(tmp, dir).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err; // else another run won the race
    });
    return { classpath: dir };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** The JVM options that make JDK 17's JSSE serve as Java 7 did. */
export function jvmArgs(dhBits: Java7DhBits, launch: FrontLaunch): string[] {
  return [
    // Fast start for a short-lived front: C1 only, no C2 warm-up.
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    // 768 bits is what JDK 8+ calls "legacy"; 1024 is spelled out.
    `-Djdk.tls.ephemeralDHKeySize=${dhBits === 768 ? 'legacy' : '1024'}`,
    // Java 7 knew no negotiated FFDHE groups (RFC 7919): without any, JSSE uses the size above
    // even when the client offers ffdhe2048.
    '-Djdk.tls.namedGroups=secp256r1,secp384r1,secp521r1',
    // Java 7 signed with PKCS#1 v1.5 only (no RSA-PSS).
    '-Djdk.tls.server.SignatureSchemes=rsa_pkcs1_sha256,rsa_pkcs1_sha384,rsa_pkcs1_sha512,rsa_pkcs1_sha1',
    `-Djava.security.properties=${SECURITY}`,
    ...('classpath' in launch ? ['-cp', launch.classpath, 'JsseFront'] : [launch.source]),
  ];
}

export function javaExecutable(): string {
  return javaTool('java');
}

/** A JDK tool: $JAVA_HOME/bin/<tool> when JAVA_HOME is set, else from PATH. */
function javaTool(tool: string): string {
  const home = process.env['JAVA_HOME'];
  return home ? join(home, 'bin', tool) : tool;
}

const Ready = z.object({ event: z.literal('ready'), java: z.string(), ephemeralDHKeySize: z.string() });
const Reply = z.object({ ref: z.string(), ok: z.boolean(), port: z.number().int().optional(), error: z.string().optional(), code: z.string().optional() });
type Reply = z.infer<typeof Reply>;

export interface ListenRequest {
  id: string;
  host: string;
  /** The port to bind (the harness picks it from its range, harness/endpoints/ports.ts). */
  port: number;
  certFiles: string[];
  keyFile: string;
  forwardPort: number;
  protocols: string[];
  suites: string[];
  leadingZeroBug: boolean;
}

export class Jvm {
  static readonly #pool = new Map<Java7DhBits, Promise<Jvm>>();

  /** The shared JVM for this DH size, started on first use (again after one died). */
  static get(dhBits: Java7DhBits): Promise<Jvm> {
    let jvm = Jvm.#pool.get(dhBits);
    if (!jvm) {
      jvm = Jvm.#start(dhBits);
      Jvm.#pool.set(dhBits, jvm);
      jvm.then((j) => j.#exited.then(() => Jvm.#pool.get(dhBits) === jvm && Jvm.#pool.delete(dhBits)), () => Jvm.#pool.delete(dhBits));
    }
    return jvm;
  }

  /** Ends every shared JVM (end of stdin, then SIGKILL after a grace period); resolves when all have exited. */
  static async closeAll(): Promise<void> {
    const all = [...Jvm.#pool.values()];
    Jvm.#pool.clear();
    await Promise.all(all.map((p) => p.then((j) => j.stop(), () => undefined)));
  }

  /** How long the JVM took from spawn to "ready" (compiling the front included). */
  readonly startMs: number;
  readonly javaVersion: string;
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #pending = new Map<string, (r: Reply) => void>();
  readonly #exited: Promise<void>;
  #listeners = 0;
  #seq = 0;
  #death: string | undefined;

  private constructor(child: ChildProcessWithoutNullStreams, exited: Promise<void>, startMs: number, javaVersion: string) {
    this.#child = child;
    this.#exited = exited;
    this.startMs = startMs;
    this.javaVersion = javaVersion;
  }

  static async #start(dhBits: Java7DhBits): Promise<Jvm> {
    const t0 = performance.now();
    const java = javaExecutable();
    // Its own process group: a Ctrl-C in the terminal reaches the harness only, whose running scenarios still end (the JVM ends with our stdin).
    const child = spawn(java, jvmArgs(dhBits, await frontLaunch()), { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-STDERR_TAIL);
    });
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const lines = createInterface({ input: child.stdout });
    return new Promise<Jvm>((resolve, reject) => {
      let jvm: Jvm | undefined;
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${java}: JsseFront did not start within ${START_TIMEOUT_MS} ms${tail(stderr)}`));
      }, START_TIMEOUT_MS);
      child.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const hint = err.code === 'ENOENT' ? ' (no JDK found: install one, e.g. apt-get install default-jdk-headless, or set JAVA_HOME)' : '';
        reject(new Error(`cannot start ${java}: ${err.message}${hint}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        const why = `the JsseFront JVM exited (code ${code}, signal ${signal})${tail(stderr)}`;
        if (jvm) jvm.#died(why);
        else reject(new Error(why));
      });
      lines.on('line', (line) => {
        if (jvm) return jvm.#onLine(line);
        const ready = Ready.safeParse(parseJson(line));
        if (!ready.success) return; // the JVM's own chatter before the front runs
        clearTimeout(timer);
        jvm = new Jvm(child, exited, performance.now() - t0, ready.data.java);
        jvm.#setBusy();
        resolve(jvm);
      });
    });
  }

  /** The JVM's process id (for leak checks). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Opens a listener on the port asked for; resolves it. A port in use rejects with code EADDRINUSE. */
  async listen(req: ListenRequest): Promise<number> {
    const reply = await this.#request({ op: 'listen', ...req });
    if (!reply.ok || reply.port === undefined) {
      throw Object.assign(new Error(reply.error ?? 'the JVM opened no port'), reply.code ? { code: reply.code } : {});
    }
    this.#listeners++;
    this.#setBusy();
    return reply.port;
  }

  /** Closes a listener and every connection it accepted. */
  async closeListener(id: string): Promise<void> {
    if (this.#death) return; // a dead JVM holds no port
    try {
      const reply = await this.#request({ op: 'close', id });
      if (!reply.ok) throw new Error(reply.error ?? `the JVM could not close listener ${id}`);
    } finally {
      this.#listeners--;
      this.#setBusy();
    }
  }

  async stop(): Promise<void> {
    this.#child.stdin.end();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), STOP_GRACE_MS);
    await this.#exited;
    clearTimeout(timer);
  }

  #request(msg: Record<string, unknown>): Promise<Reply> {
    if (this.#death) return Promise.reject(new Error(this.#death));
    const ref = String(++this.#seq);
    return new Promise<Reply>((resolve) => {
      this.#pending.set(ref, resolve);
      this.#setBusy();
      this.#child.stdin.write(`${JSON.stringify({ ...msg, ref })}\n`);
    }).finally(() => {
      this.#pending.delete(ref);
      this.#setBusy();
    });
  }

  #onLine(line: string): void {
    const reply = Reply.safeParse(parseJson(line));
    if (reply.success) this.#pending.get(reply.data.ref)?.(reply.data);
  }

  #died(why: string): void {
    this.#death = why;
    for (const answer of this.#pending.values()) answer({ ref: '', ok: false, error: why });
  }

  /**
   * The JVM keeps the harness process alive only while it serves something: an idle one must not
   * hold up the end of a run that forgot to close it (it ends itself when our stdin pipe closes).
   */
  #setBusy(): void {
    const busy = this.#pending.size > 0 || this.#listeners > 0;
    // The stdio streams are net.Sockets (pipes) at run time; their types do not say so.
    const handles = [this.#child, this.#child.stdin, this.#child.stdout, this.#child.stderr] as unknown as Array<{ ref(): void; unref(): void }>;
    for (const handle of handles) {
      if (busy) handle.ref();
      else handle.unref();
    }
  }
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

function tail(stderr: string): string {
  const t = stderr.trim();
  return t ? `: ${t.split('\n').slice(-5).join(' | ')}` : '';
}
