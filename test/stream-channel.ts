import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

// A TCP socket behind a plain Duplex that is no net.Socket, as an ssh2 channel is: what a
// gateway's forward hands the LSR client, and what a test server replays a sniffed start into.

/** `first`: bytes already read from the socket, given back before the rest. */
export function asChannel(socket: Socket, first?: Buffer): Duplex {
  const channel = new Duplex({
    read() {},
    write(chunk, _encoding, done) {
      socket.write(chunk, done);
    },
    final(done) {
      socket.end();
      done();
    },
    destroy(err, done) {
      socket.destroy();
      done(err);
    },
  });
  if (first) channel.push(first);
  socket.on('data', (d: Buffer) => channel.push(d));
  socket.on('end', () => channel.push(null));
  socket.on('error', () => channel.destroy());
  return channel;
}
