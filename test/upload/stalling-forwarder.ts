/**
 * A TCP forwarder in front of a local server that swallows chosen connections: it accepts them
 * and never forwards a byte, like a peer that died without a reset. For the client-side bound
 * of each try: without it nothing fails and nothing answers, so the SDK's retries never start.
 */
import * as net from 'node:net';

export interface StallingForwarder {
  port: number;
  /** Connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

/** Forwards to 127.0.0.1:`targetPort`, except connections for which `stall(index)` is true (0-based). */
export async function startStallingForwarder(targetPort: number, stall: (index: number) => boolean): Promise<StallingForwarder> {
  const sockets = new Set<net.Socket>();
  const state = { connections: 0 };
  const server = net.createServer((client) => {
    const index = state.connections++;
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (stall(index)) {
      client.pause();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() {
      return state.connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
