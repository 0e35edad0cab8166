// Where the emulator's HTTPS server listens: the DPS address (--host, --port) and, on the same port, each linked
// hub whose host is an IPv4 address, so that `HostName=127.0.0.2` reaches the emulator with no DNS. The hub
// listeners hand their sockets to the one HTTPS server, which tells DPS from hub requests by Host.
import type * as https from "node:https";
import * as net from "node:net";

import { isIpv4, type EmulatorConfig } from "./config";

export interface Listening {
  port: number;
  /** Hubs the emulator could not listen for, with what to do about it. */
  warnings: string[];
  /** Stops listening (open connections belong to the HTTPS server). */
  close(): Promise<void>;
}

/** A port 0 start whose hub address had that port taken: listen again on another. */
class PortTaken extends Error {}

function listenOn(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The reason a listen failed, with what to do, naming the flag. */
function listenError(err: unknown, where: string, flag: string): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const port = Number(where.slice(where.lastIndexOf(":") + 1));
  if (code === "EACCES") {
    return new Error(
      `cannot listen on ${where}: permission denied (ports below 1024 need root or ` +
        `sysctl net.ipv4.ip_unprivileged_port_start=${port}); choose another ${flag}`,
      { cause: err },
    );
  }
  if (code === "EADDRINUSE") {
    return new Error(`cannot listen on ${where}: the port is in use; choose another ${flag}`, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** Hubs that need their own listener: an IPv4 host other than the DPS address, unless that is a wildcard. */
function hubAddresses(config: EmulatorConfig): { name: string; address: string }[] {
  if (config.host === "0.0.0.0" || config.host === "::") return [];
  return config.linkedHubs
    .filter((hub) => isIpv4(hub.hostName) && hub.hostName !== config.host)
    .map((hub) => ({ name: hub.name, address: hub.hostName }));
}

export async function listenAll(server: https.Server, config: EmulatorConfig): Promise<Listening> {
  for (let attempt = 0; ; attempt++) {
    let port: number;
    try {
      port = await listenOn(server, config.port, config.host);
    } catch (err) {
      throw listenError(err, `${config.host}:${config.port}`, "--port");
    }
    const hubServers: net.Server[] = [];
    const warnings: string[] = [];
    try {
      for (const { name, address } of hubAddresses(config)) {
        const hubServer = net.createServer((socket) => server.emit("connection", socket));
        try {
          await listenOn(hubServer, port, address);
          hubServers.push(hubServer);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === "EADDRNOTAVAIL") {
            // macOS routes only 127.0.0.1 to lo0 until an alias is added; the hub still answers on the DPS address.
            warnings.push(
              `hub ${name}: ${address} is not an address of this machine, so clients connecting to it cannot reach ` +
                `the emulator (on macOS: sudo ifconfig lo0 alias ${address} up, then restart the emulator)`,
            );
          } else if (code === "EADDRINUSE" && config.port === 0 && attempt < 5) {
            throw new PortTaken();
          } else {
            throw listenError(err, `${address}:${port}`, "--port (or --hub address)");
          }
        }
      }
    } catch (err) {
      await Promise.all([...hubServers, server].map(closeServer));
      if (err instanceof PortTaken) continue;
      throw err;
    }
    return {
      port,
      warnings,
      close: async () => {
        await Promise.all(hubServers.map(closeServer));
      },
    };
  }
}
