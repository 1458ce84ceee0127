import { type AddressInfo, connect, createServer, type Socket } from 'node:net';

export interface TcpRelay {
  port: number;
  /** `url` (a PostgreSQL or Redis URL of 127.0.0.1) with its port made the relay's. */
  through(url: string): string;
  /** From now on, bytes in either direction are dropped; no connection closes. */
  swallow(): void;
  close(): Promise<void>;
}

/**
 * A relay on 127.0.0.1 to `targetPort`, for tests of a peer that stops
 * answering without closing its connections (a network path lost, a server
 * frozen behind a proxy): after `swallow()` the client's sockets stay open
 * and hear nothing, whatever they send. It listens on `port`, or on a free
 * port when none is given.
 */
export async function startTcpRelay(targetPort: number, port = 0): Promise<TcpRelay> {
  let swallowing = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (data) => swallowing || upstream.write(data));
    upstream.on('data', (data) => swallowing || client.write(data));
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('end', end);
    }
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const listening = (server.address() as AddressInfo).port;
  return {
    port: listening,
    through: (url) => {
      const relayed = new URL(url);
      relayed.host = `127.0.0.1:${listening}`;
      return relayed.toString();
    },
    swallow: () => {
      swallowing = true;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
