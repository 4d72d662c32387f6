import { connect, createServer, type Server, type Socket } from 'node:net';

/** The hop floor's processes all run on this machine. */
const HOST = '127.0.0.1';

/** A TCP connection to a floor process, Nagle off (every hop sends at once, as partq's do). */
export function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, HOST, () => resolve(socket));
    socket.setNoDelay(true);
    socket.once('error', reject);
  });
}

/** A server on a free port, handing each connection (Nagle off) to `onSocket`. */
export function listen(onSocket: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => {
      socket.setNoDelay(true);
      onSocket(socket);
    });
    server.on('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      if (typeof address === 'object' && address) resolve({ server, port: address.port });
      else reject(new Error('no port'));
    });
  });
}
