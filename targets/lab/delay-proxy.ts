import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

// A TCP proxy that delays every chunk by half a round trip in each direction, in order: the WAN
// link (VPN, 20–100 ms) between the harness and a lab gateway's sshd, without `tc netem` (not
// available here). The bench puts one in front of each virtual gateway; the tests use it to cut
// a link at a chosen moment (in the middle of an upload, say).

export interface DelayProxy {
  /** Where the harness connects instead of the gateway. */
  readonly host: string;
  readonly port: number;
  /** The round trip it adds from now on (each direction gets half). */
  rttMs: number;
  /** Bytes carried towards the gateway so far (all connections). */
  readonly bytesUp: number;
  /**
   * Cuts every connection once `afterBytes` more bytes went towards the gateway (0 = now): the
   * harness's side is destroyed, the gateway's gets what had been carried and then the end of the
   * connection; bytes still delayed in flight are lost.
   */
  cutAfter(afterBytes: number): Promise<void>;
  /** Stops carrying bytes either way (a black-holed link: nothing is closed, nothing arrives). */
  blackhole(): void;
  close(): Promise<void>;
}

export async function startDelayProxy(opts: { to: { host: string; port: number }; rttMs: number; listen?: string }): Promise<DelayProxy> {
  const sockets = new Set<Socket>();
  /** The gateway's side of each connection: at a cut it gets what was written so far, then the connection ends. */
  const upstreams = new Set<Socket>();
  let bytesUp = 0;
  let holed = false;
  let cut: { at: number; done: () => void } | undefined;
  const state = { rttMs: opts.rttMs };

  const cutNow = () => {
    for (const s of sockets) {
      if (upstreams.has(s)) s.end(() => s.destroy());
      else s.destroy();
    }
    const c = cut;
    cut = undefined;
    c?.done();
  };

  /** Writes `from`'s chunks to `to` half a round trip later, keeping their order. */
  const carry = (from: Socket, to: Socket, up: boolean) => {
    const queue: Array<{ due: number; data: Buffer }> = [];
    let timer: NodeJS.Timeout | undefined;
    const flush = () => {
      timer = undefined;
      const now = performance.now();
      while (queue.length && queue[0]!.due <= now) if (!to.destroyed) to.write(queue.shift()!.data);
      if (queue.length) timer = setTimeout(flush, queue[0]!.due - now);
    };
    from.on('data', (data: Buffer) => {
      if (holed) return;
      if (up) {
        bytesUp += data.length;
        if (cut && bytesUp >= cut.at) {
          // The part before the cut still goes out; the rest never arrives.
          const keep = data.length - (bytesUp - cut.at);
          if (keep > 0 && !to.destroyed) to.write(data.subarray(0, keep));
          return cutNow();
        }
      }
      const delay = state.rttMs / 2;
      if (delay <= 0 && !queue.length) return void to.write(data);
      queue.push({ due: performance.now() + delay, data });
      timer ??= setTimeout(flush, delay);
    });
    // The end goes after the bytes still delayed; a connection torn down drops them.
    from.on('end', () => {
      const end = () => (to.destroyed ? undefined : queue.length ? setTimeout(end, 1) : to.end());
      end();
    });
    from.on('close', () => {
      clearTimeout(timer);
      queue.length = 0;
    });
  };

  const server = createServer((client) => {
    const upstream = connect(opts.to.port, opts.to.host);
    sockets.add(client).add(upstream);
    upstreams.add(upstream);
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        upstreams.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    carry(client, upstream, true);
    carry(upstream, client, false);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, opts.listen ?? '127.0.0.1', () => resolve()));
  const address = server.address() as AddressInfo;

  return {
    host: address.address,
    port: address.port,
    get rttMs() {
      return state.rttMs;
    },
    set rttMs(ms: number) {
      state.rttMs = ms;
    },
    get bytesUp() {
      return bytesUp;
    },
    cutAfter: (afterBytes) =>
      new Promise<void>((resolve) => {
        cut = { at: bytesUp + afterBytes, done: resolve };
        if (afterBytes <= 0) cutNow();
      }),
    blackhole: () => {
      holed = true;
    },
    close: async () => {
      cutNow();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
