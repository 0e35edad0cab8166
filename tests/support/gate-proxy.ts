// A TCP proxy with a gate, to hold a client mid-operation for exactly as long as a test needs: while the gate is
// shut, connections are accepted and held, unanswered; opening it forwards them (and every later one) to the target.
// TLS passes through untouched.
import * as net from "node:net";

export interface GateProxy {
  port: number;
  /** Connections held at the gate so far. */
  held(): number;
  /** Resolves once at least `count` connections are held. */
  waitForHeld(count?: number): Promise<void>;
  open(): void;
  close(): Promise<void>;
}

export async function startGateProxy(targetPort: number, targetHost = "127.0.0.1"): Promise<GateProxy> {
  let isOpen = false;
  let heldCount = 0;
  const waiting: net.Socket[] = [];
  const sockets = new Set<net.Socket>();
  const listeners: (() => void)[] = [];

  const forward = (client: net.Socket): void => {
    const upstream = net.connect(targetPort, targetHost);
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    client.on("close", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.pipe(upstream).pipe(client);
    client.resume();
  };

  const server = net.createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    // A client that gives up while held must not take the test process down.
    client.on("error", () => client.destroy());
    if (isOpen) return forward(client);
    client.pause();
    waiting.push(client);
    heldCount++;
    listeners.splice(0).forEach((notify) => notify());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

  return {
    port: (server.address() as net.AddressInfo).port,
    held: () => heldCount,
    waitForHeld: async (count = 1) => {
      while (heldCount < count) await new Promise<void>((resolve) => listeners.push(resolve));
    },
    open: () => {
      isOpen = true;
      waiting.splice(0).forEach(forward);
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
