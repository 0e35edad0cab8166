// Azure's SDKs always connect to port 443 of a HostName and take no port; an https.Agent is their one hook for
// where a connection goes. This one keeps the host (and so SNI and the certificate check) and changes the port.
import * as https from "node:https";
import type { Duplex } from "node:stream";
import type * as tls from "node:tls";

type CreateConnection = (
  this: https.Agent,
  options: tls.ConnectionOptions,
  callback?: (err: Error | null, stream: Duplex) => void,
) => Duplex;

/** An https.Agent whose every connection goes to `port` of the requested host, whatever port was asked for. */
export class PortAgent extends https.Agent {
  constructor(private readonly port: number) {
    super({ keepAlive: false });
  }

  createConnection(options: tls.ConnectionOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex {
    const base = (https.Agent.prototype as unknown as { createConnection: CreateConnection }).createConnection;
    return base.call(this, { ...options, port: this.port }, callback);
  }
}
