// The MQTT server over real TLS on 127.0.0.1: the npm `mqtt` client (the transport of the DPS device SDK) for the
// normal flows, and hand-made packets on a raw TLS socket where exact bytes, framing or protocol violations matter.
import * as net from "node:net";
import * as tls from "node:tls";

import * as mqtt from "mqtt";

import { issueCertificate, type IssuedCertificate } from "../pki";
import {
  ConnectResult,
  MAX_PACKET_SIZE,
  MqttConnectInfo,
  MqttServer,
  MqttServerOptions,
  MqttSession,
  isValidTopicFilter,
  isValidTopicName,
  topicMatches,
} from "./server";

jest.setTimeout(10_000);

// ---- TLS material ----

type Identity = IssuedCertificate;

let ca: Identity;
let serverIdentity: Identity;
/** A device certificate signed by the test CA, as in a DPS enrollment group. */
let caSignedDevice: Identity;
/** A self-signed device certificate, as in a DPS individual enrollment. */
let selfSignedDevice: Identity;

beforeAll(() => {
  ca = issueCertificate({ commonName: "MQTT test CA", isCA: true });
  serverIdentity = issueCertificate({
    commonName: "localhost",
    issuer: ca,
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
  });
  caSignedDevice = issueCertificate({ commonName: "device-from-group", issuer: ca, clientAuth: true });
  selfSignedDevice = issueCertificate({ commonName: "device-self-signed", clientAuth: true });
});

// ---- fixtures ----

let server: MqttServer | undefined;
const clients: mqtt.MqttClient[] = [];
const rawSockets: tls.TLSSocket[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) {
    client.end(true);
  }
  for (const socket of rawSockets.splice(0)) {
    socket.destroy();
  }
  await server?.close();
  server = undefined;
});

async function startServer(options: Partial<MqttServerOptions> = {}): Promise<number> {
  server = new MqttServer({
    tls: {
      key: serverIdentity.keyPem,
      cert: serverIdentity.certPem,
      ca: [ca.certPem],
      requestCert: true,
      rejectUnauthorized: false,
    },
    authenticate: () => ({ accepted: true }),
    onPublish: () => undefined,
    ...options,
  });
  return server.listen(0, "127.0.0.1");
}

interface OpenedClient {
  client: mqtt.MqttClient;
  connected: Promise<void>;
  closed: Promise<void>;
}

function openClient(port: number, options: mqtt.IClientOptions = {}): OpenedClient {
  const client = mqtt.connect(`mqtts://127.0.0.1:${port}`, {
    ca: ca.certPem,
    rejectUnauthorized: true,
    reconnectPeriod: 0,
    protocolVersion: 4,
    clean: true,
    keepalive: 180,
    ...options,
  });
  clients.push(client);
  const connected = new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
  return { client, connected, closed };
}

async function connectClient(port: number, options: mqtt.IClientOptions = {}): Promise<mqtt.MqttClient> {
  const { client, connected } = openClient(port, options);
  await connected;
  return client;
}

function subscribe(client: mqtt.MqttClient, filters: mqtt.ISubscriptionMap): Promise<mqtt.ISubscriptionGrant[]> {
  return new Promise((resolve, reject) =>
    client.subscribe(filters, (err, granted) => (err ? reject(err) : resolve(granted))),
  );
}

function publish(client: mqtt.MqttClient, topic: string, payload: string): Promise<void> {
  return new Promise((resolve, reject) =>
    client.publish(topic, payload, { qos: 1 }, (err) => (err ? reject(err) : resolve())),
  );
}

interface Received {
  topic: string;
  payload: string;
  qos: number;
}

function collectMessages(client: mqtt.MqttClient): Received[] {
  const received: Received[] = [];
  client.on("message", (topic, payload, packet) =>
    received.push({ topic, payload: payload.toString(), qos: packet.qos }),
  );
  return received;
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) {
    await sleep(5);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Bytes from a hex string with optional spaces. */
function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ""), "hex");
}

function str(text: string): string {
  return Buffer.from(text, "utf8").toString("hex");
}

/** A hand-made MQTT 3.1.1 CONNECT with a clean session, the given client id and keepalive. */
function connectPacket(clientId: string, keepalive: number, flags = 0x02): Buffer {
  const body = hex(`0004 ${str("MQTT")} 04 ${flags.toString(16).padStart(2, "0")}`);
  const keepaliveBytes = Buffer.alloc(2);
  keepaliveBytes.writeUInt16BE(keepalive);
  const id = Buffer.from(clientId, "utf8");
  const idLength = Buffer.alloc(2);
  idLength.writeUInt16BE(id.length);
  const rest = Buffer.concat([body, keepaliveBytes, idLength, id]);
  return Buffer.concat([Buffer.from([0x10, rest.length]), rest]);
}

/** A TLS socket speaking hand-made MQTT; frames are read back whole (remaining length up to 127 suffices here). */
class RawClient {
  private buffer = Buffer.alloc(0);
  private ended = false;
  private wake: (() => void) | undefined;
  readonly closed: Promise<void>;

  private constructor(readonly socket: tls.TLSSocket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake?.();
    });
    socket.on("error", () => undefined);
    this.closed = new Promise((resolve) =>
      socket.on("close", () => {
        this.ended = true;
        this.wake?.();
        resolve();
      }),
    );
  }

  static open(port: number, options: tls.ConnectionOptions = {}): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host: "127.0.0.1", port, ca: ca.certPem, ...options }, () =>
        resolve(new RawClient(socket)),
      );
      rawSockets.push(socket);
      socket.once("error", reject);
    });
  }

  get pendingBytes(): number {
    return this.buffer.length;
  }

  send(bytes: Buffer | string): void {
    this.socket.write(typeof bytes === "string" ? hex(bytes) : bytes);
  }

  /** The next whole packet from the server, as hex; throws when the connection closes first. */
  async nextFrame(): Promise<string> {
    for (;;) {
      if (this.buffer.length >= 2 && this.buffer.length >= 2 + this.buffer[1]) {
        const frame = this.buffer.subarray(0, 2 + this.buffer[1]);
        this.buffer = this.buffer.subarray(frame.length);
        return frame.toString("hex");
      }
      if (this.ended) {
        throw new Error(`connection closed with ${this.buffer.length} unread bytes`);
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

async function connectRaw(port: number, keepalive = 60): Promise<RawClient> {
  const raw = await RawClient.open(port);
  raw.send(connectPacket("raw-device", keepalive));
  expect(await raw.nextFrame()).toBe("20020000");
  return raw;
}

// ---- topic rules ----

describe("topic filters", () => {
  test.each<[string, string, boolean]>([
    ["a/b", "a/b", true],
    ["A/b", "a/b", false],
    ["a/b", "a/b/", false],
    ["a/+", "a/b", true],
    ["a/+", "a/b/c", false],
    ["a/+", "a", false],
    ["a/+/c", "a//c", true],
    ["+/+", "/x", true],
    ["+", "/x", false],
    ["a/#", "a", true],
    ["a/#", "a/b/c", true],
    ["a/#", "ab", false],
    ["#", "a/b", true],
    ["#", "$dps/registrations/res/200", false],
    ["+/registrations/res/#", "$dps/registrations/res/200", false],
    ["$dps/registrations/res/#", "$dps/registrations/res/200/?$rid=1", true],
    ["$dps/+/res/#", "$dps/registrations/res/202/?$rid=1&retry-after=3", true],
    ["$dps/registrations/res/#", "$dps/registrations/PUT/iotdps-register/?$rid=1", false],
    ["$dps/#", "$other/x", false],
    ["a/+", "$a/b", false],
  ])("%s matches %s: %s", (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });

  test.each<[string, boolean]>([
    ["#", true],
    ["+", true],
    ["/", true],
    ["+/+", true],
    ["a/+/b", true],
    ["a/#", true],
    ["$dps/registrations/res/#", true],
    ["", false],
    ["a#", false],
    ["a/#/b", false],
    ["#/a", false],
    ["a/b+", false],
    ["a/+b/c", false],
    ["a\u0000b", false],
  ])("filter %j is valid: %s", (filter, expected) => {
    expect(isValidTopicFilter(filter)).toBe(expected);
  });

  test.each<[string, boolean]>([
    ["a/b", true],
    ["$dps/registrations/res/200/?$rid=1", true],
    ["", false],
    ["a/+", false],
    ["a/#", false],
  ])("topic name %j is valid: %s", (topic, expected) => {
    expect(isValidTopicName(topic)).toBe(expected);
  });
});

// ---- with the mqtt client ----

describe("MqttServer with the mqtt client", () => {
  test("answers each request on the client that asked, and only there", async () => {
    const seenBy: string[] = [];
    const port = await startServer({
      onPublish: (session, topic, payload) => {
        seenBy.push(session.clientId);
        const rid = /\?\$rid=(\w+)$/.exec(topic)?.[1] ?? "none";
        // No subscription matches this one: it must be dropped, not sent.
        session.publish("$dps/registrations/other", "dropped");
        session.publish(`$dps/registrations/res/202/?$rid=${rid}`, `${session.clientId}:${payload.toString()}`);
      },
    });
    const a = await connectClient(port, { clientId: "device-a" });
    const b = await connectClient(port, { clientId: "device-b" });
    const receivedA = collectMessages(a);
    const receivedB = collectMessages(b);
    expect(await subscribe(a, { "$dps/registrations/res/#": { qos: 1 } })).toEqual([
      { topic: "$dps/registrations/res/#", qos: 1 },
    ]);
    await subscribe(b, { "$dps/registrations/res/#": { qos: 1 } });

    await publish(a, "$dps/registrations/PUT/iotdps-register/?$rid=1", "a-first");
    await until(() => receivedA.length === 1);
    await publish(b, "$dps/registrations/PUT/iotdps-register/?$rid=2", "b-first");
    await until(() => receivedB.length === 1);
    // Had b's answer gone to a as well, it would arrive on a's stream before the answer to this request.
    await publish(a, "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=3", "a-second");
    await until(() => receivedA.length === 2);

    expect(seenBy).toEqual(["device-a", "device-b", "device-a"]);
    expect(receivedA).toEqual([
      { topic: "$dps/registrations/res/202/?$rid=1", payload: "device-a:a-first", qos: 1 },
      { topic: "$dps/registrations/res/202/?$rid=3", payload: "device-a:a-second", qos: 1 },
    ]);
    expect(receivedB).toEqual([{ topic: "$dps/registrations/res/202/?$rid=2", payload: "device-b:b-first", qos: 1 }]);
  });

  test("grants min(requested QoS, 1) and publishes at the granted QoS", async () => {
    const port = await startServer({
      onPublish: (session) => {
        session.publish("low/x", "at-0");
        session.publish("high/x", "at-1");
      },
    });
    const client = await connectClient(port, { clientId: "qos" });
    const received = collectMessages(client);
    expect(await subscribe(client, { "high/#": { qos: 2 }, "low/+": { qos: 0 } })).toEqual([
      { topic: "high/#", qos: 1 },
      { topic: "low/+", qos: 0 },
    ]);
    await publish(client, "request", "");
    await until(() => received.length === 2);
    expect(received).toEqual([
      { topic: "low/x", payload: "at-0", qos: 0 },
      { topic: "high/x", payload: "at-1", qos: 1 },
    ]);
  });

  test.each<[4 | 5, string]>([
    [4, "Connection refused: Bad username or password"],
    [5, "Connection refused: Not authorized"],
  ])("refuses CONNECT with return code %d and closes", async (returnCode, message) => {
    const port = await startServer({ authenticate: () => ({ accepted: false, returnCode }) });
    const { connected, closed } = openClient(port, { clientId: "refused" });
    await expect(connected).rejects.toMatchObject({ code: returnCode, message });
    await closed;
  });

  test("passes client id, user name and password through to authenticate exactly, with no certificate", async () => {
    const infos: MqttConnectInfo[] = [];
    const port = await startServer({
      authenticate: async (info) => {
        infos.push(info);
        await sleep(10);
        return { accepted: true };
      },
    });
    const username = "0ne00000001/registrations/dev-1/api-version=2019-03-31&ClientVersion=test%2F1.0";
    const password =
      "SharedAccessSignature sr=0ne00000001%2Fregistrations%2Fdev-1&sig=c2ln%3D&se=1900000000&skn=registration";
    await connectClient(port, { clientId: "dev-1", username, password });
    expect(infos).toEqual([
      {
        clientId: "dev-1",
        username,
        password: Buffer.from(password),
        peerCertificates: [],
        remoteAddress: "127.0.0.1",
      },
    ]);
  });

  test("passes a self-signed client certificate through as DER", async () => {
    const infos: MqttConnectInfo[] = [];
    const port = await startServer({ authenticate: (info) => (infos.push(info), { accepted: true }) });
    await connectClient(port, { clientId: "x509", key: selfSignedDevice.keyPem, cert: selfSignedDevice.certPem });
    expect(infos).toHaveLength(1);
    expect(infos[0].username).toBeUndefined();
    expect(infos[0].password).toBeUndefined();
    expect(infos[0].peerCertificates).toEqual([selfSignedDevice.der]);
  });

  test("passes a CA-signed client certificate through leaf first, followed by its issuer", async () => {
    const infos: MqttConnectInfo[] = [];
    const port = await startServer({ authenticate: (info) => (infos.push(info), { accepted: true }) });
    await connectClient(port, {
      clientId: "group-device",
      key: caSignedDevice.keyPem,
      cert: caSignedDevice.certPem + ca.certPem,
    });
    expect(infos.map((info) => info.peerCertificates)).toEqual([[caSignedDevice.der, ca.der]]);
  });

  test("acknowledges a QoS 1 PUBLISH only after onPublish settles", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const topics: string[] = [];
    const port = await startServer({
      onPublish: async (_session, topic) => {
        topics.push(topic);
        await gate;
      },
    });
    const client = await connectClient(port, { clientId: "slow" });
    let acked = false;
    const ack = publish(client, "$dps/registrations/PUT/iotdps-register/?$rid=9", "{}").then(() => {
      acked = true;
    });
    await until(() => topics.length === 1);
    await sleep(100);
    expect(acked).toBe(false);
    release();
    await ack;
    expect(topics).toEqual(["$dps/registrations/PUT/iotdps-register/?$rid=9"]);
  });

  test("acknowledges and survives an onPublish that throws or rejects, reporting the errors", async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const port = await startServer({
      onPublish: (session) => {
        calls++;
        if (calls === 1) {
          throw new Error("sync failure");
        }
        if (calls === 2) {
          return Promise.reject(new Error("async failure"));
        }
        session.publish("res/ok", "fine");
        return undefined;
      },
      onError: (err) => errors.push(err),
    });
    const client = await connectClient(port, { clientId: "faulty" });
    const received = collectMessages(client);
    await subscribe(client, { "res/#": { qos: 1 } });
    await publish(client, "req/1", "");
    await publish(client, "req/2", "");
    await publish(client, "req/3", "");
    await until(() => received.length === 1);
    expect(received).toEqual([{ topic: "res/ok", payload: "fine", qos: 1 }]);
    expect(errors.map((err) => (err as Error).message)).toEqual(["sync failure", "async failure"]);
  });

  test("calls onDisconnect with the session when the client disconnects", async () => {
    const disconnected: MqttSession[] = [];
    const port = await startServer({ onDisconnect: (session) => disconnected.push(session) });
    const { client, connected, closed } = openClient(port, { clientId: "leaving" });
    await connected;
    client.end();
    await closed;
    await until(() => disconnected.length === 1);
    expect(disconnected[0].clientId).toBe("leaving");
  });

  test("close() closes connected clients and connections still in the TLS handshake", async () => {
    const disconnected: string[] = [];
    const port = await startServer({ onDisconnect: (session) => disconnected.push(session.clientId) });
    const { connected, closed } = openClient(port, { clientId: "stays" });
    await connected;
    const plain = net.connect(port, "127.0.0.1");
    const plainClosed = new Promise<void>((resolve) => plain.on("close", () => resolve()));
    plain.on("error", () => undefined);
    await new Promise<void>((resolve) => plain.once("connect", () => resolve()));
    await server?.close();
    server = undefined;
    await closed;
    await plainClosed;
    expect(disconnected).toEqual(["stays"]);
  });

  test("listen rejects when the port is taken", async () => {
    const port = await startServer();
    const second = new MqttServer({
      tls: { key: serverIdentity.keyPem, cert: serverIdentity.certPem },
      authenticate: (): ConnectResult => ({ accepted: true }),
      onPublish: () => undefined,
    });
    await expect(second.listen(port, "127.0.0.1")).rejects.toMatchObject({ code: "EADDRINUSE" });
    await second.close();
  });
});

// ---- with hand-made packets ----

describe("MqttServer with hand-made packets", () => {
  test("answers SUBSCRIBE, numbers its QoS 1 publishes, tolerates PUBACKs and honours UNSUBSCRIBE", async () => {
    const port = await startServer({
      onPublish: (session) => {
        session.publish("t/1", "a");
        session.publish("t/2", "b");
        session.publish("$dps/registrations/res/200/?$rid=1", "c");
      },
    });
    const raw = await connectRaw(port);
    const filters = [
      ["a/+/b", 2],
      ["a/#/b", 1],
      ["$dps/registrations/res/#", 0],
      ["t/#", 1],
    ] as const;
    const subscribeBody = Buffer.concat([
      hex("000a"),
      ...filters.map(([filter, qos]) =>
        Buffer.concat([
          hex(`00${filter.length.toString(16).padStart(2, "0")}`),
          Buffer.from(filter),
          Buffer.from([qos]),
        ]),
      ),
    ]);
    raw.send(Buffer.concat([Buffer.from([0x82, subscribeBody.length]), subscribeBody]));
    expect(await raw.nextFrame()).toBe("9006000a01800001");

    raw.send(`32 07 0003 ${str("req")} 0007`);
    expect(await raw.nextFrame()).toBe(`3208 0003${str("t/1")} 0001 ${str("a")}`.replace(/\s/g, ""));
    expect(await raw.nextFrame()).toBe(`3208 0003${str("t/2")} 0002 ${str("b")}`.replace(/\s/g, ""));
    const dpsTopic = "$dps/registrations/res/200/?$rid=1";
    expect(await raw.nextFrame()).toBe(`30 25 0022 ${str(dpsTopic)} ${str("c")}`.replace(/\s/g, ""));
    expect(await raw.nextFrame()).toBe("40020007");

    // An expected PUBACK and one for an identifier never used: neither disturbs the connection.
    raw.send("40 02 0001 40 02 0063 c0 00");
    expect(await raw.nextFrame()).toBe("d000");

    raw.send(`a2 07 000b 0003 ${str("t/#")}`);
    expect(await raw.nextFrame()).toBe("b002000b");
    raw.send(`30 05 0003 ${str("req")}`);
    // t/1 and t/2 no longer match; only the $dps publish (QoS 0 subscription) arrives.
    expect(await raw.nextFrame()).toBe(`30 25 0022 ${str(dpsTopic)} ${str("c")}`.replace(/\s/g, ""));
    raw.send("e0 00");
    await raw.closed;
    expect(raw.pendingBytes).toBe(0);
  });

  test("closes a connection that stays silent for 1.5 x keepalive, and a PINGREQ postpones it", async () => {
    const port = await startServer();
    const started = Date.now();
    const raw = await connectRaw(port, 1);
    await sleep(1000);
    raw.send("c0 00");
    expect(await raw.nextFrame()).toBe("d000");
    await raw.closed;
    const elapsed = Date.now() - started;
    // Closed 1.5 s after the PINGREQ at about 1 s, not 1.5 s after CONNECT (a busy machine only makes it later).
    expect(elapsed).toBeGreaterThanOrEqual(2400);
  });

  test("handles a client's packets split at every byte, a two-byte remaining length included", async () => {
    const received: { topic: string; payload: Buffer }[] = [];
    const port = await startServer({ onPublish: (_session, topic, payload) => void received.push({ topic, payload }) });
    const raw = await RawClient.open(port);
    const payload = Buffer.alloc(200, 0x61);
    // Remaining length 2 + 3 + 2 + 200 = 207 takes two bytes: 0xcf 0x01.
    const stream = Buffer.concat([
      connectPacket("split", 60),
      hex(`82 08 0001 0003 ${str("a/b")} 01`),
      hex(`32 cf 01 0003 ${str("a/b")} 0005`),
      payload,
    ]);
    for (const byte of stream) {
      raw.send(Buffer.from([byte]));
      await sleep(1);
    }
    expect(await raw.nextFrame()).toBe("20020000");
    expect(await raw.nextFrame()).toBe("9003000101");
    expect(await raw.nextFrame()).toBe("40020005");
    expect(received).toEqual([{ topic: "a/b", payload }]);
  });

  test("handles a PUBLISH of the maximum size and closes the connection on a larger one before it has all arrived", async () => {
    const sizes: number[] = [];
    const port = await startServer({ onPublish: (_session, _topic, payload) => void sizes.push(payload.length) });
    const raw = await connectRaw(port);
    /** A QoS 1 PUBLISH to topic "t" of `total` bytes, fixed header and three-byte remaining length included. */
    const publishOf = (total: number): Buffer => {
      const remaining = total - 4;
      const length = Buffer.from([(remaining & 0x7f) | 0x80, ((remaining >> 7) & 0x7f) | 0x80, remaining >> 14]);
      return Buffer.concat([Buffer.from([0x32]), length, hex(`0001 ${str("t")} 0001`), Buffer.alloc(remaining - 5)]);
    };
    raw.send(publishOf(MAX_PACKET_SIZE));
    expect(await raw.nextFrame()).toBe("40020001");
    expect(sizes).toEqual([MAX_PACKET_SIZE - 9]);
    // Half of a packet four times the maximum: the server stops buffering and closes.
    raw.send(publishOf(4 * MAX_PACKET_SIZE).subarray(0, 2 * MAX_PACKET_SIZE));
    await raw.closed;
    expect(sizes).toHaveLength(1);
  });

  test.each<[string, string]>([
    ["a malformed remaining length", "30 ff ff ff ff 01"],
    ["a PUBLISH to a wildcard topic", `30 05 0003 ${str("a/#")}`],
    ["a second CONNECT", connectPacket("again", 60).toString("hex")],
    ["a QoS 2 PUBLISH", `34 07 0003 ${str("a/b")} 0001`],
    ["a PUBREL", "62 02 0001"],
    ["a CONNACK", "20 02 00 00"],
  ])("closes the connection on %s", async (_name, bytes) => {
    const onPublish = jest.fn();
    const port = await startServer({ onPublish });
    const raw = await connectRaw(port);
    raw.send(bytes);
    await raw.closed;
    expect(raw.pendingBytes).toBe(0);
    expect(onPublish).not.toHaveBeenCalled();
  });

  test("closes a connection whose first packet is not CONNECT, without answering", async () => {
    const authenticate = jest.fn((): ConnectResult => ({ accepted: true }));
    const port = await startServer({ authenticate });
    const raw = await RawClient.open(port);
    raw.send("c0 00");
    await raw.closed;
    expect(raw.pendingBytes).toBe(0);
    expect(authenticate).not.toHaveBeenCalled();
  });

  test.each<[string, Buffer, string]>([
    ["MQTT 5", hex(`10 0d 0004 ${str("MQTT")} 05 02 003c 00 0000`), "20020001"],
    ["MQTT 3.1", hex(`10 0f 0006 ${str("MQIsdp")} 03 02 003c 0001 ${str("a")}`), "20020001"],
    ["an empty client id without a clean session", connectPacket("", 60, 0x00), "20020002"],
  ])("refuses %s with the matching CONNACK and closes", async (_name, bytes, connack) => {
    const authenticate = jest.fn((): ConnectResult => ({ accepted: true }));
    const port = await startServer({ authenticate });
    const raw = await RawClient.open(port);
    raw.send(bytes);
    expect(await raw.nextFrame()).toBe(connack);
    await raw.closed;
    expect(authenticate).not.toHaveBeenCalled();
  });

  test("holds back packets that arrive while authenticate runs, then handles them in order", async () => {
    const port = await startServer({
      authenticate: async () => {
        await sleep(50);
        return { accepted: true };
      },
    });
    const raw = await RawClient.open(port);
    raw.send(Buffer.concat([connectPacket("eager", 60), hex(`82 08 0001 0003 ${str("a/b")} 01`), hex("c0 00")]));
    expect(await raw.nextFrame()).toBe("20020000");
    expect(await raw.nextFrame()).toBe("9003000101");
    expect(await raw.nextFrame()).toBe("d000");
  });

  test("answers CONNACK 3 when authenticate throws", async () => {
    const errors: unknown[] = [];
    const port = await startServer({
      authenticate: () => {
        throw new Error("store offline");
      },
      onError: (err) => errors.push(err),
    });
    const raw = await RawClient.open(port);
    raw.send(connectPacket("unlucky", 60));
    expect(await raw.nextFrame()).toBe("20020003");
    await raw.closed;
    expect(errors.map((err) => (err as Error).message)).toEqual(["store offline"]);
  });
});
