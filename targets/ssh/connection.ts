import { connect as tcpConnect } from 'node:net';
import { Client, type ClientChannel, type ConnectConfig, type SFTPWrapper, type Stats } from 'ssh2';
import { InfrastructureError } from '../../harness/scenario/target.ts';
import { fingerprint } from './host-key.ts';

// One SSH connection to a gateway: the host key checked against the inventory's pin before
// anything is sent, keepalive so a vanished gateway is noticed, exec, SFTP, forwarding both
// ways. Every failure is an InfrastructureError that names the target and says what to do.

export interface SshAuth {
  privateKey?: Buffer;
  passphrase?: string;
  agent?: string;
  password?: string;
  /** How the inventory says to log in, for messages (never the secret itself). */
  describe: string;
}

export interface SshOptions {
  targetId: string;
  inventoryFile: string;
  host: string;
  port: number;
  user: string;
  auth: SshAuth;
  /** Pinned fingerprints; empty = not pinned yet. */
  hostKeys: string[];
  /** First contact allowed (`--accept-new-host-key`): pins the key seen, returns where. */
  acceptNew?: (seen: string) => Promise<string>;
  keepalive: { intervalMs: number; countMax: number };
  connectTimeoutMs: number;
  /** Told when the connection ends unasked (the reason in words). */
  onLost?: (reason: string) => void;
}

export interface ExitStatus {
  code: number | null;
  signal: string | null;
}

/**
 * A started command. `exited` is tracked from the moment the channel opens: ssh2 may deliver the
 * exit status and the close in the same packet as the open confirmation, before any later
 * listener could be attached.
 */
export type Spawned = ClientChannel & { readonly exited: Promise<ExitStatus> };

export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export class SshConnection {
  #lost?: string;
  #closing = false;
  #sftp?: Promise<SFTPWrapper>;
  #spares?: { command: string; count: number; ready: Array<Promise<Spawned>> };
  readonly #inbound = new Map<number, { host: string; port: number }>();

  private constructor(
    private readonly client: Client,
    readonly opts: SshOptions,
    /** What first contact did with the host key (where it pinned it), when it happened. */
    readonly pinned: string | undefined,
  ) {
    const lose = (reason: string) => {
      if (this.#lost || this.#closing) return;
      this.#lost = reason;
      opts.onLost?.(reason);
    };
    client.on('error', (e: Error) => lose(`SSH connection to ${opts.targetId} (${opts.host}:${opts.port}) failed: ${e.message}`));
    client.on('close', () => lose(`SSH connection to ${opts.targetId} (${opts.host}:${opts.port}) was closed by the gateway or the network`));
    client.on('tcp connection', (info, accept, reject) => {
      const to = this.#inbound.get(info.destPort);
      if (!to) return reject();
      const remote = accept();
      const local = tcpConnect(to.port, to.host);
      local.on('error', () => remote.destroy());
      remote.on('error', () => local.destroy());
      remote.pipe(local).pipe(remote);
    });
  }

  static async open(opts: SshOptions): Promise<SshConnection> {
    const client = new Client();
    const where = `${opts.targetId}: ${opts.user}@${opts.host}:${opts.port}`;
    let hostKeyProblem: string | undefined;
    let seen: string | undefined;
    const config: ConnectConfig = {
      host: opts.host,
      port: opts.port,
      username: opts.user,
      readyTimeout: opts.connectTimeoutMs,
      keepaliveInterval: opts.keepalive.intervalMs,
      keepaliveCountMax: opts.keepalive.countMax,
      hostVerifier: (key: Buffer) => {
        seen = fingerprint(key);
        if (opts.hostKeys.includes(seen)) return true;
        if (opts.hostKeys.length === 0 && opts.acceptNew) return true;
        hostKeyProblem = opts.hostKeys.length
          ? `${where}: the gateway's host key is ${seen}, but ${opts.inventoryFile} pins ${opts.hostKeys.join(' or ')} for this target. ` +
            `The key changed, or this is not the gateway: refusing to connect. If the change is expected, set hostKey: ${seen} for ${opts.targetId}`
          : `${where}: ${opts.inventoryFile} pins no host key for this target and the gateway offers ${seen}. ` +
            `Compare it with the gateway's own (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then set hostKey: ${seen} for ${opts.targetId}, or run once with --accept-new-host-key`;
        return false;
      },
      ...(opts.auth.privateKey ? { privateKey: opts.auth.privateKey } : {}),
      ...(opts.auth.passphrase ? { passphrase: opts.auth.passphrase } : {}),
      ...(opts.auth.agent ? { agent: opts.auth.agent } : {}),
      ...(opts.auth.password ? { password: opts.auth.password } : {}),
    };
    await new Promise<void>((resolve, reject) => {
      const fail = (e: Error & { level?: string; code?: string }) => {
        client.removeListener('ready', ready);
        // A handshake timeout is followed by "connection lost" as the socket goes: said once is enough.
        client.on('error', () => undefined);
        client.destroy();
        reject(new InfrastructureError(hostKeyProblem ?? connectError(e, where, opts)));
      };
      const ready = () => {
        client.removeListener('error', fail);
        resolve();
      };
      client.once('ready', ready);
      client.once('error', fail);
      client.connect(config);
    });
    const pinned = opts.hostKeys.length === 0 && seen ? await opts.acceptNew!(seen) : undefined;
    return new SshConnection(client, opts, pinned);
  }

  /** Why the connection ended unasked, if it did. */
  get lost(): string | undefined {
    return this.#lost;
  }

  /** Runs a command to completion; rejects only when the connection fails. */
  async exec(command: string, opts: { stdin?: string } = {}): Promise<ExecResult> {
    const ch = await this.spawn(command);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    ch.on('data', (d: Buffer) => out.push(d));
    ch.stderr.on('data', (d: Buffer) => err.push(d));
    ch.end(opts.stdin);
    const { code, signal } = await ch.exited;
    return { code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
  }

  /** Runs a command and throws (naming `what`) unless it exits 0. */
  async run(command: string, what: string, opts: { stdin?: string } = {}): Promise<string> {
    const r = await this.exec(command, opts);
    if (r.code !== 0) {
      const said = (r.stderr || r.stdout).trim().split(/\r?\n/).slice(-3).join(' | ');
      throw new InfrastructureError(`${this.opts.targetId}: ${what} failed (exit ${r.code ?? r.signal})${said ? `: ${said}` : ''}`);
    }
    return r.stdout;
  }

  /** A started command whose streams the caller reads (output waits, buffered, until it does). */
  async spawn(command: string): Promise<Spawned> {
    let exited: Promise<ExitStatus> | undefined;
    const ch = await this.#channel((cb) => this.client.exec(command, (e, c) => {
      if (!e) exited = exitOf(c);
      cb(e, c);
    }), 'run a command');
    return Object.assign(ch, { exited: exited! });
  }

  /**
   * Keeps `count` channels running `command` opened ahead: a command that waits on stdin for what
   * to do (posix.ts BOOTSTRAP), so that running something costs no channel open and no exec
   * request on the way, only the data there and the answer back.
   */
  keepSpares(command: string, count: number): void {
    this.#spares = { command, count, ready: [] };
    this.#refill();
  }

  /** A channel opened ahead (or now, when none is ready); another is opened in its place. */
  takeSpare(): Promise<Spawned> {
    this.#checkAlive();
    const spares = this.#spares;
    if (!spares) throw new Error('keepSpares() was not called');
    const next = spares.ready.shift() ?? this.spawn(spares.command);
    this.#refill();
    return next;
  }

  #refill(): void {
    const spares = this.#spares;
    while (spares && spares.ready.length < spares.count && !this.#lost && !this.#closing) {
      const ch = this.spawn(spares.command);
      ch.catch(() => undefined); // a failure is reported to whoever takes it
      spares.ready.push(ch);
    }
  }

  /** A TCP connection made by the gateway to one of its own addresses (its loopback). */
  forwardOut(host: string, port: number): Promise<ClientChannel> {
    return this.#channel((cb) => this.client.forwardOut('127.0.0.1', 0, host, port, cb), `open a connection to ${host}:${port} on the gateway`);
  }

  /**
   * Reverse tunnel: the gateway listens on its loopback at `port` and every connection it gets
   * is carried to `to` on this host. Returns the function that removes it.
   */
  async forwardIn(port: number, to: { host: string; port: number }): Promise<() => Promise<void>> {
    this.#checkAlive();
    await new Promise<void>((resolve, reject) =>
      this.client.forwardIn('localhost', port, (e) =>
        e ? reject(new InfrastructureError(`${this.opts.targetId}: the gateway refused to listen on its localhost:${port} for the reverse tunnel: ${e.message}`)) : resolve(),
      ),
    );
    this.#inbound.set(port, to);
    return async () => {
      this.#inbound.delete(port);
      if (this.#lost) return;
      await new Promise<void>((resolve) => this.client.unforwardIn('localhost', port, () => resolve()));
    };
  }

  sftp(): Promise<SFTPWrapper> {
    this.#checkAlive();
    this.#sftp ??= new Promise<SFTPWrapper>((resolve, reject) =>
      this.client.sftp((e, s) => (e ? reject(new InfrastructureError(`${this.opts.targetId}: cannot start SFTP: ${e.message}`)) : resolve(s))),
    );
    return this.#sftp;
  }

  async writeFile(path: string, data: Buffer | string, mode: number): Promise<void> {
    const s = await this.sftp();
    await sftpCall<void>((cb) => s.writeFile(path, data, { mode }, cb), `${this.opts.targetId}: cannot write ${path}`);
    // The server's umask applies to a new file's mode; chmod makes it exact.
    await sftpCall<void>((cb) => s.chmod(path, mode, cb), `${this.opts.targetId}: cannot chmod ${path}`);
  }

  /** The file's content, or undefined when it does not exist. */
  async readFile(path: string): Promise<Buffer | undefined> {
    const s = await this.sftp();
    return sftpCall<Buffer>((cb) => s.readFile(path, cb), `${this.opts.targetId}: cannot read ${path}`).catch((e: { noSuchFile?: boolean }) => {
      if (e.noSuchFile) return undefined;
      throw e;
    });
  }

  async stat(path: string): Promise<Stats | undefined> {
    const s = await this.sftp();
    return sftpCall<Stats>((cb) => s.stat(path, cb), `${this.opts.targetId}: cannot stat ${path}`).catch((e: { noSuchFile?: boolean }) => {
      if (e.noSuchFile) return undefined;
      throw e;
    });
  }

  /** Creates the directory (and missing parents, 0755) with exactly `mode`; an existing one just gets the mode. */
  async mkdirp(path: string, mode: number): Promise<void> {
    const s = await this.sftp();
    if (!(await this.stat(path))) {
      const parent = path.slice(0, path.lastIndexOf('/'));
      if (parent && !/^\/?[A-Za-z]:$/.test(parent) && !(await this.stat(parent))) await this.mkdirp(parent, 0o755);
      await sftpCall<void>((cb) => s.mkdir(path, { mode }, cb), `${this.opts.targetId}: cannot create ${path}`);
    }
    await sftpCall<void>((cb) => s.chmod(path, mode, cb), `${this.opts.targetId}: cannot chmod ${path}`);
  }

  /** Names in a directory (not . and ..), with whether each is a directory. */
  async readdir(path: string): Promise<Array<{ name: string; dir: boolean }>> {
    const s = await this.sftp();
    const list = await sftpCall<Array<{ filename: string; attrs: Stats }>>((cb) => s.readdir(path, cb), `${this.opts.targetId}: cannot list ${path}`);
    return list.filter((e) => e.filename !== '.' && e.filename !== '..').map((e) => ({ name: e.filename, dir: e.attrs.isDirectory() }));
  }

  async rmdir(path: string): Promise<void> {
    const s = await this.sftp();
    await sftpCall<void>((cb) => s.rmdir(path, cb), `${this.opts.targetId}: cannot remove ${path}`);
  }

  async unlink(path: string): Promise<void> {
    const s = await this.sftp();
    await sftpCall<void>((cb) => s.unlink(path, cb), `${this.opts.targetId}: cannot remove ${path}`).catch((e: { noSuchFile?: boolean }) => {
      if (!e.noSuchFile) throw e;
    });
  }

  /** Replaces `to` with `from` (atomically where the server has the POSIX-rename extension). */
  async rename(from: string, to: string): Promise<void> {
    const s = await this.sftp();
    const what = `${this.opts.targetId}: cannot rename ${from} to ${to}`;
    try {
      await sftpCall<void>((cb) => s.ext_openssh_rename(from, to, cb), what);
    } catch {
      await this.unlink(to);
      await sftpCall<void>((cb) => s.rename(from, to, cb), what);
    }
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#lost) return;
    // Unused spares get EOF and exit: when close resolves, nothing of ours runs on the gateway.
    // (Read, or the channel's end, and with it its close, never comes.)
    await Promise.all((this.#spares?.ready.splice(0) ?? []).map((p) => p.then((c) => (c.resume(), c.stderr.resume(), c.end(), c.exited), () => undefined)));
    await new Promise<void>((resolve) => {
      this.client.once('close', () => resolve());
      this.client.end();
    });
  }

  /** Cuts the TCP connection without goodbye (fault injection and a harness that must leave now). */
  destroy(): void {
    this.client.destroy();
  }

  #checkAlive(): void {
    if (this.#lost) throw new InfrastructureError(this.#lost);
  }

  #channel(open: (cb: (e: Error | undefined, ch: ClientChannel) => void) => void, what: string): Promise<ClientChannel> {
    this.#checkAlive();
    return new Promise((resolve, reject) =>
      open((e, ch) => (e ? reject(new InfrastructureError(this.#lost ?? `${this.opts.targetId}: cannot ${what}: ${e.message}`)) : resolve(ch))),
    );
  }
}

/** Resolves with the exit status (or the signal, named as Node names them) when the channel closes. */
function exitOf(ch: ClientChannel): Promise<ExitStatus> {
  return new Promise((resolve) => {
    let status: ExitStatus = { code: null, signal: null };
    ch.on('exit', (code: number | null, signal?: string) => {
      status = { code: typeof code === 'number' ? code : null, signal: signal ? `SIG${signal}` : null };
    });
    ch.once('close', () => resolve(status));
  });
}

function sftpCall<T>(call: (cb: (e: (Error & { code?: number }) | null | undefined, v: T) => void) => void, what: string): Promise<T> {
  return new Promise((resolve, reject) =>
    call((e, v) => {
      if (!e) return resolve(v);
      const err = new InfrastructureError(`${what}: ${e.message}`) as InfrastructureError & { noSuchFile?: boolean };
      err.noSuchFile = e.code === 2; // SSH_FX_NO_SUCH_FILE
      reject(err);
    }),
  );
}

function connectError(e: Error & { level?: string; code?: string }, where: string, opts: SshOptions): string {
  if (e.level === 'client-authentication') {
    return `${where}: SSH authentication failed (${opts.auth.describe}): the gateway accepted none of the credentials; check auth for ${opts.targetId} in ${opts.inventoryFile}`;
  }
  switch (e.code) {
    case 'ECONNREFUSED':
      return `${where}: the gateway refused the SSH connection (ECONNREFUSED): is sshd running there?`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where}: the gateway is unreachable (${e.code}): check the network path to it`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${where}: cannot resolve ${opts.host} (${e.code})`;
    case 'ETIMEDOUT':
      return `${where}: no answer (ETIMEDOUT): the gateway is unreachable or down`;
  }
  if (/connection lost before handshake/i.test(e.message)) {
    return `${where}: the connection closed before the SSH handshake: the gateway is unreachable, or its sshd dropped it`;
  }
  if (/timed out while waiting for handshake/i.test(e.message)) {
    return `${where}: no SSH handshake within ${opts.connectTimeoutMs} ms: the gateway is unreachable or down`;
  }
  return `${where}: SSH connection failed: ${e.message}`;
}
