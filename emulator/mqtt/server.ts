// A minimal MQTT 3.1.1 server over TLS for the DPS device topics: it authenticates each CONNECT through a callback,
// keeps per-connection subscriptions only, hands every client PUBLISH to a callback and lets that callback answer
// the one client that asked. No broker semantics: no retained messages, no sessions across connections, no fan-out.
// The wire format is mqtt-packet's, the codec of the `mqtt` client the Azure device SDK speaks through.
import * as net from "node:net";
import * as tls from "node:tls";

import * as mqttPacket from "mqtt-packet";

/** Largest packet (fixed header included) a client may send; DPS messages are a few KiB at most. */
export const MAX_PACKET_SIZE = 256 * 1024;

/** CONNACK return codes of MQTT 3.1.1 (section 3.2.2.3). */
export const ConnackCode = {
  accepted: 0,
  unacceptableProtocolVersion: 1,
  identifierRejected: 2,
  serverUnavailable: 3,
  badUserNameOrPassword: 4,
  notAuthorized: 5,
} as const;
export type ConnackReturnCode = (typeof ConnackCode)[keyof typeof ConnackCode];

/** SUBACK return code for a filter the server refuses. */
const SUBACK_FAILURE = 0x80;

export interface MqttConnectInfo {
  clientId: string;
  username?: string;
  password?: Buffer;
  /** TLS peer certificate chain as DER buffers, leaf first; empty when the client sent no certificate. */
  peerCertificates: Buffer[];
  remoteAddress: string;
}

/** CONNACK return codes of MQTT 3.1.1: 4 = bad user name or password, 5 = not authorized. */
export type ConnectResult = { accepted: true } | { accepted: false; returnCode: 4 | 5 };

export interface MqttSession {
  readonly clientId: string;
  readonly info: MqttConnectInfo;
  /** Sends PUBLISH to this client only, when one of its subscriptions matches (at min(granted QoS, 1)); otherwise drops it. */
  publish(topic: string, payload: Buffer | string): void;
  close(): void;
}

export interface MqttServerOptions {
  tls: tls.TlsOptions; // the caller passes key/cert/ca and requestCert: true, rejectUnauthorized: false
  authenticate(info: MqttConnectInfo): ConnectResult | Promise<ConnectResult>;
  onPublish(session: MqttSession, topic: string, payload: Buffer): void | Promise<void>;
  onDisconnect?(session: MqttSession): void;
  /** Receives what authenticate, onPublish and onDisconnect throw or reject with; those never close the server. */
  onError?(error: unknown): void;
  /** How long a connection may stay open without sending CONNECT; 10 s when omitted. */
  connectTimeoutMs?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** How long a closing connection may take to finish its TLS shutdown before it is destroyed. */
const GRACEFUL_CLOSE_MS = 2_000;

/** True for a topic filter that SUBSCRIBE may carry (section 4.7): wildcards only as whole levels, `#` only last. */
export function isValidTopicFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes("\u0000") || Buffer.byteLength(filter, "utf8") > 0xffff) {
    return false;
  }
  const levels = filter.split("/");
  return levels.every((level, index) => {
    if (level.includes("#")) {
      return level === "#" && index === levels.length - 1;
    }
    return !level.includes("+") || level === "+";
  });
}

/** True for a topic name that PUBLISH may carry: non-empty, no wildcards. */
export function isValidTopicName(topic: string): boolean {
  return (
    topic.length > 0 &&
    !topic.includes("+") &&
    !topic.includes("#") &&
    !topic.includes("\u0000") &&
    Buffer.byteLength(topic, "utf8") <= 0xffff
  );
}

/**
 * Whether a topic name matches a (valid) topic filter. Wildcards in the first level do not match topics that start
 * with `$` (section 4.7.2), so `$dps/...` topics are only reached through filters starting with a literal `$...`.
 */
export function topicMatches(filter: string, topic: string): boolean {
  const filterLevels = filter.split("/");
  const topicLevels = topic.split("/");
  if (topic.startsWith("$") && (filterLevels[0] === "+" || filterLevels[0] === "#")) {
    return false;
  }
  for (let index = 0; index < filterLevels.length; index++) {
    const level = filterLevels[index];
    if (level === "#") {
      // `#` also matches the parent level: "a/#" matches "a".
      return true;
    }
    if (index >= topicLevels.length) {
      return false;
    }
    if (level !== "+" && level !== topicLevels[index]) {
      return false;
    }
  }
  return filterLevels.length === topicLevels.length;
}

/** The peer's certificate chain as DER, leaf first. Node links a self-signed certificate to itself as its issuer. */
function peerCertificateChain(socket: tls.TLSSocket): Buffer[] {
  const chain: Buffer[] = [];
  // An empty object (no `raw`) when the client sent no certificate; null once the socket is destroyed.
  let cert = socket.getPeerCertificate(true) as tls.DetailedPeerCertificate | null | undefined;
  while (cert && Buffer.isBuffer(cert.raw)) {
    const der = cert.raw;
    if (chain.some((seen) => seen.equals(der))) {
      break;
    }
    chain.push(der);
    cert = cert.issuerCertificate === cert ? undefined : cert.issuerCertificate;
  }
  return chain;
}

type ConnectionState = "awaitingConnect" | "authenticating" | "connected" | "closed";

/** One client connection; it is also the MqttSession handed to callbacks once CONNECT was accepted. */
class Connection implements MqttSession {
  private connectInfo: MqttConnectInfo = { clientId: "", peerCertificates: [], remoteAddress: "" };
  private state: ConnectionState = "awaitingConnect";
  private accepted = false;
  private connectSeen = false;
  private readonly parser = mqttPacket.parser({ protocolVersion: 4 });
  /** Set when the stream cannot be decoded any further; nothing after it is read. */
  private broken = false;
  /** Packets are handled strictly in order; CONNECT's asynchronous authenticate holds back what follows it. */
  private queue: Promise<void> = Promise.resolve();
  /** PUBACKs go out in PUBLISH order (section 4.6) even when onPublish calls settle out of order. */
  private ackQueue: Promise<void> = Promise.resolve();
  private readonly subscriptions = new Map<string, 0 | 1>();
  private readonly inflight = new Set<number>();
  private lastPacketId = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: tls.TLSSocket,
    private readonly options: MqttServerOptions,
    private readonly onClosed: (connection: Connection) => void,
  ) {
    socket.setNoDelay(true);
    socket.on("error", () => {
      // A broken socket concerns this client only; "close" follows and cleans up.
    });
    socket.on("close", () => this.closed());
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    this.parser.on("packet", (packet: mqttPacket.Packet) => {
      this.onPacketReceived(packet);
      this.enqueue(() => this.handle(packet));
    });
    // Malformed bytes (section 4.8: the connection is closed), after the packets before them are handled.
    this.parser.on("error", () => this.fail());
    this.armTimer(options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  }

  get clientId(): string {
    return this.connectInfo.clientId;
  }

  get info(): MqttConnectInfo {
    return this.connectInfo;
  }

  publish(topic: string, payload: Buffer | string): void {
    if (this.state !== "connected" || !isValidTopicName(topic)) {
      return;
    }
    let granted: 0 | 1 | undefined;
    for (const [filter, qos] of this.subscriptions) {
      if (topicMatches(filter, topic) && (granted === undefined || qos > granted)) {
        granted = qos;
      }
    }
    if (granted === undefined) {
      return;
    }
    const body = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
    if (granted === 0) {
      this.send({ cmd: "publish", topic, payload: body, qos: 0, dup: false, retain: false });
      return;
    }
    const messageId = this.allocatePacketId();
    if (messageId !== undefined) {
      this.send({ cmd: "publish", topic, payload: body, qos: 1, dup: false, retain: false, messageId });
    }
  }

  close(): void {
    this.shutdown(true);
  }

  /** Immediate teardown, for server shutdown and protocol violations. */
  destroy(): void {
    this.shutdown(false);
  }

  private receive(chunk: Buffer): void {
    if (this.state === "closed" || this.broken) {
      return;
    }
    // parse() emits the complete packets and returns how many bytes wait for the rest of a packet.
    const pending = this.parser.parse(chunk);
    if (pending > MAX_PACKET_SIZE) {
      this.fail();
    }
  }

  private fail(): void {
    if (!this.broken) {
      this.broken = true;
      this.enqueue(() => this.destroy());
    }
  }

  private onPacketReceived(packet: mqttPacket.Packet): void {
    // Tracked here rather than through `state`, which only changes once the queue reaches the packet.
    if (!this.connectSeen && packet.cmd === "connect") {
      this.connectSeen = true;
      // The keepalive clock starts with CONNECT, not with CONNACK; 1.5 x keepalive per section 3.1.2.10.
      this.armTimer((packet.keepalive ?? 0) * 1500);
    } else if (this.connectSeen) {
      this.timer?.refresh();
    }
  }

  private enqueue(step: () => void | Promise<void>): void {
    this.queue = this.queue.then(step).catch((err: unknown) => {
      this.report(err);
      this.destroy();
    });
  }

  private async handle(packet: mqttPacket.Packet): Promise<void> {
    if (this.state === "closed") {
      return;
    }
    if (this.state === "awaitingConnect") {
      if (packet.cmd !== "connect") {
        this.destroy();
      } else if (packet.protocolId !== "MQTT" || packet.protocolVersion !== 4) {
        // MQTT 3.1 (MQIsdp) or 5: the only answer 3.1.1 has for them (section 3.1.2.2).
        this.refuse(ConnackCode.unacceptableProtocolVersion);
      } else {
        await this.handleConnect(packet);
      }
      return;
    }
    switch (packet.cmd) {
      case "publish":
        this.handlePublish(packet);
        return;
      case "puback":
        if (packet.messageId !== undefined) this.inflight.delete(packet.messageId);
        return;
      case "subscribe":
        this.handleSubscribe(packet);
        return;
      case "unsubscribe":
        for (const filter of packet.unsubscriptions) {
          this.subscriptions.delete(filter);
        }
        this.send({ cmd: "unsuback", messageId: packet.messageId, granted: [] });
        return;
      case "pingreq":
        this.send({ cmd: "pingresp" });
        return;
      case "disconnect":
        this.close();
        return;
      default:
        // A second CONNECT, a packet only servers send, or a QoS 2 acknowledgement although this server never
        // uses QoS 2.
        this.destroy();
    }
  }

  private async handleConnect(packet: mqttPacket.IConnectPacket): Promise<void> {
    if (packet.clientId === "" && !packet.clean) {
      // Section 3.1.3.1: an empty client identifier requires a clean session.
      this.refuse(ConnackCode.identifierRejected);
      return;
    }
    this.state = "authenticating";
    this.connectInfo = {
      clientId: packet.clientId,
      username: packet.username,
      password: packet.password,
      peerCertificates: peerCertificateChain(this.socket),
      remoteAddress: this.socket.remoteAddress ?? "",
    };
    let code: ConnackReturnCode;
    try {
      const result = await this.options.authenticate(this.connectInfo);
      code = result.accepted ? ConnackCode.accepted : result.returnCode;
    } catch (err) {
      this.report(err);
      code = ConnackCode.serverUnavailable;
    }
    // The client may have gone away while authenticate ran.
    if (this.state !== "authenticating") {
      return;
    }
    if (code !== ConnackCode.accepted) {
      this.refuse(code);
      return;
    }
    this.state = "connected";
    this.accepted = true;
    this.send({ cmd: "connack", returnCode: ConnackCode.accepted, sessionPresent: false });
  }

  private handlePublish(packet: mqttPacket.IPublishPacket): void {
    if (packet.qos === 2 || !isValidTopicName(packet.topic)) {
      // QoS 2 is unsupported (DPS devices publish at QoS 1); a wildcard topic breaks section 3.3.2.1.
      this.destroy();
      return;
    }
    const payload = typeof packet.payload === "string" ? Buffer.from(packet.payload) : packet.payload;
    let settled: Promise<void>;
    try {
      settled = Promise.resolve(this.options.onPublish(this, packet.topic, payload)).catch((err: unknown) =>
        this.report(err),
      );
    } catch (err) {
      this.report(err);
      settled = Promise.resolve();
    }
    const messageId = packet.qos === 1 ? packet.messageId : undefined;
    if (messageId !== undefined) {
      this.ackQueue = this.ackQueue
        .then(() => settled)
        .then(() => this.send({ cmd: "puback", messageId }))
        .catch((err: unknown) => this.report(err));
    }
  }

  private handleSubscribe(packet: mqttPacket.ISubscribePacket): void {
    const granted = packet.subscriptions.map(({ topic, qos }) => {
      if (!isValidTopicFilter(topic)) {
        return SUBACK_FAILURE;
      }
      const grantedQos = qos === 0 ? 0 : 1;
      this.subscriptions.set(topic, grantedQos);
      return grantedQos;
    });
    this.send({ cmd: "suback", messageId: packet.messageId, granted });
  }

  /** Answers CONNECT with a refusal and closes, as section 3.2.2.3 requires. */
  private refuse(code: ConnackReturnCode): void {
    this.send({ cmd: "connack", returnCode: code, sessionPresent: false });
    this.close();
  }

  /** Next free identifier in 1..65535 not awaiting a PUBACK; undefined when all are in flight. */
  private allocatePacketId(): number | undefined {
    for (let attempt = 0; attempt < 0xffff; attempt++) {
      this.lastPacketId = (this.lastPacketId % 0xffff) + 1;
      if (!this.inflight.has(this.lastPacketId)) {
        this.inflight.add(this.lastPacketId);
        return this.lastPacketId;
      }
    }
    return undefined;
  }

  private send(packet: mqttPacket.Packet): void {
    if (this.state !== "closed" && this.socket.writable) {
      this.socket.write(mqttPacket.generate(packet));
    }
  }

  private armTimer(ms: number): void {
    clearTimeout(this.timer);
    this.timer = ms > 0 ? setTimeout(() => this.destroy(), ms) : undefined;
  }

  private shutdown(graceful: boolean): void {
    if (this.state !== "closed") {
      this.state = "closed";
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.socket.destroyed) {
      return;
    }
    if (!graceful) {
      this.socket.destroy();
    } else if (!this.socket.writableEnded) {
      // end() flushes a final CONNACK; the timer covers a peer that never completes the TLS shutdown.
      this.socket.end();
      setTimeout(() => this.socket.destroy(), GRACEFUL_CLOSE_MS).unref();
    }
  }

  private closed(): void {
    this.shutdown(false);
    this.onClosed(this);
    if (this.accepted) {
      this.accepted = false;
      try {
        this.options.onDisconnect?.(this);
      } catch (err) {
        this.report(err);
      }
    }
  }

  private report(err: unknown): void {
    try {
      this.options.onError?.(err);
    } catch {
      // A failing error hook must not take the connection handling down with it.
    }
  }
}

export class MqttServer {
  private readonly server: tls.Server;
  /** Raw TCP sockets, including those still in the TLS handshake, so close() can end them all. */
  private readonly sockets = new Set<net.Socket>();
  private readonly connections = new Set<Connection>();

  constructor(options: MqttServerOptions) {
    this.server = tls.createServer(options.tls, (socket) => {
      const connection = new Connection(socket, options, (closed) => this.connections.delete(closed));
      this.connections.add(connection);
    });
    this.server.on("connection", (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    this.server.on("tlsClientError", () => {
      // A failed handshake concerns that client only.
    });
  }

  /** Resolves with the bound port. */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        this.server.off("listening", onListening);
        reject(err);
      };
      const onListening = (): void => {
        this.server.off("error", onError);
        // Later server errors (e.g. a failed accept) must not crash the process.
        this.server.on("error", () => undefined);
        const address = this.server.address();
        resolve(typeof address === "object" && address !== null ? address.port : port);
      };
      this.server.once("error", onError);
      this.server.once("listening", onListening);
      this.server.listen(port, host);
    });
  }

  /** Stops accepting and closes every connection. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      // The callback's error only says the server was not listening, which is closed enough.
      this.server.close(() => resolve());
      for (const connection of this.connections) {
        connection.destroy();
      }
      for (const socket of this.sockets) {
        socket.destroy();
      }
    });
  }
}
