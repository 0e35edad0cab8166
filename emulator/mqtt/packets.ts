// MQTT 3.1.1 wire codec for a server: a stream decoder for the packets a client sends (CONNECT, PUBLISH, the
// publish acknowledgements, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT) and encoders for the packets a server
// sends. Pure: no sockets, no timers. Malformed input is reported as an MqttDecodeError value, never thrown.

/** Largest whole packet (fixed header included) the decoder accepts; DPS messages are a few KiB at most. */
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
export const SUBACK_FAILURE = 0x80;

export type QoS = 0 | 1 | 2;

export interface ConnectWill {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
}

/** A CONNECT for protocol "MQTT" level 4, fully parsed. */
export interface ConnectPacket {
  type: "connect";
  protocolName: "MQTT";
  protocolLevel: 4;
  cleanSession: boolean;
  /** Seconds; 0 disables the keepalive. */
  keepalive: number;
  clientId: string;
  will?: ConnectWill;
  username?: string;
  password?: Buffer;
}

/**
 * A CONNECT for another protocol name or level. Only the name and level are parsed: later versions lay out the
 * rest differently, and the server's only answer is CONNACK 0x01.
 */
export interface UnsupportedConnectPacket {
  type: "connectUnsupported";
  protocolName: string;
  protocolLevel: number;
}

export interface PublishPacket {
  type: "publish";
  topic: string;
  payload: Buffer;
  qos: QoS;
  dup: boolean;
  retain: boolean;
  /** Present exactly when qos > 0. */
  packetId?: number;
}

export interface AckPacket {
  type: "puback" | "pubrec" | "pubrel" | "pubcomp";
  packetId: number;
}

export interface Subscription {
  /** As sent; the server, not the codec, decides whether it is a valid filter. */
  filter: string;
  qos: QoS;
}

export interface SubscribePacket {
  type: "subscribe";
  packetId: number;
  subscriptions: Subscription[];
}

export interface UnsubscribePacket {
  type: "unsubscribe";
  packetId: number;
  filters: string[];
}

export interface PingreqPacket {
  type: "pingreq";
}

export interface DisconnectPacket {
  type: "disconnect";
}

/** Every packet a client may send to a server. */
export type ClientPacket =
  | ConnectPacket
  | UnsupportedConnectPacket
  | PublishPacket
  | AckPacket
  | SubscribePacket
  | UnsubscribePacket
  | PingreqPacket
  | DisconnectPacket;

export type MqttDecodeErrorKind =
  /** The bytes break the 3.1.1 wire format. */
  | "malformed"
  /** The packet is larger than the decoder's maximum. */
  | "oversize"
  /** A well-formed packet that only a server sends (CONNACK, SUBACK, UNSUBACK, PINGRESP) or a reserved type. */
  | "unexpected";

/** Why a byte stream could not be decoded. Returned by the decoder, not thrown. */
export class MqttDecodeError extends Error {
  constructor(
    readonly kind: MqttDecodeErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "MqttDecodeError";
  }
}

export interface DecodeResult {
  /** Complete packets, in stream order, that precede any error. */
  packets: ClientPacket[];
  /** Set once the stream is unusable; the decoder then reports it again on every later push. */
  error?: MqttDecodeError;
}

const PacketType = {
  Connect: 1,
  Connack: 2,
  Publish: 3,
  Puback: 4,
  Pubrec: 5,
  Pubrel: 6,
  Pubcomp: 7,
  Subscribe: 8,
  Suback: 9,
  Unsubscribe: 10,
  Unsuback: 11,
  Pingreq: 12,
  Pingresp: 13,
  Disconnect: 14,
} as const;

/** Largest value four remaining-length bytes can hold (section 2.2.3). */
const MAX_REMAINING_LENGTH = 268_435_455;

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Turns a TCP byte stream into client packets. Frames may be split across pushes or several may arrive in one
 * push; an oversize frame is refused as soon as its remaining length is known, before its body is buffered.
 */
export class PacketDecoder {
  private buffer: Buffer = Buffer.alloc(0);
  private failure: MqttDecodeError | undefined;

  constructor(private readonly maxPacketSize: number = MAX_PACKET_SIZE) {}

  push(chunk: Buffer): DecodeResult {
    if (this.failure) {
      return { packets: [], error: this.failure };
    }
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const packets: ClientPacket[] = [];
    try {
      for (;;) {
        const frame = this.nextFrame();
        if (!frame) {
          break;
        }
        packets.push(decodeFrame(frame.header, frame.body));
      }
    } catch (err) {
      // Anything thrown while decoding (including a RangeError from a bounds slip) poisons the stream.
      this.failure =
        err instanceof MqttDecodeError ? err : new MqttDecodeError("malformed", `undecodable packet: ${String(err)}`);
      this.buffer = Buffer.alloc(0);
      return { packets, error: this.failure };
    }
    return { packets };
  }

  /** Cuts the next whole frame off the buffer, or returns undefined when more bytes are needed. */
  private nextFrame(): { header: number; body: Buffer } | undefined {
    const buf = this.buffer;
    if (buf.length < 1) {
      return undefined;
    }
    checkFixedHeader(buf[0]);
    let remaining = 0;
    let offset = 1;
    for (let index = 0; ; index++) {
      if (offset >= buf.length) {
        return undefined;
      }
      const byte = buf[offset++];
      remaining += (byte & 0x7f) * 128 ** index;
      if ((byte & 0x80) === 0) {
        break;
      }
      if (index === 3) {
        throw new MqttDecodeError("malformed", "remaining length longer than 4 bytes");
      }
    }
    const total = offset + remaining;
    if (total > this.maxPacketSize) {
      throw new MqttDecodeError("oversize", `packet of ${total} bytes exceeds the ${this.maxPacketSize}-byte maximum`);
    }
    if (buf.length < total) {
      return undefined;
    }
    const body = buf.subarray(offset, total);
    this.buffer = buf.subarray(total);
    return { header: buf[0], body };
  }
}

/** Rejects reserved types, server-only types and wrong fixed-header flags from the first byte alone. */
function checkFixedHeader(header: number): void {
  const type = header >> 4;
  const flags = header & 0x0f;
  switch (type) {
    case PacketType.Publish:
      return;
    case PacketType.Pubrel:
    case PacketType.Subscribe:
    case PacketType.Unsubscribe:
      if (flags !== 0b0010) {
        throw new MqttDecodeError("malformed", `packet type ${type} with flags ${flags} (must be 2)`);
      }
      return;
    case PacketType.Connect:
    case PacketType.Puback:
    case PacketType.Pubrec:
    case PacketType.Pubcomp:
    case PacketType.Pingreq:
    case PacketType.Disconnect:
      if (flags !== 0) {
        throw new MqttDecodeError("malformed", `packet type ${type} with flags ${flags} (must be 0)`);
      }
      return;
    case PacketType.Connack:
    case PacketType.Suback:
    case PacketType.Unsuback:
    case PacketType.Pingresp:
      throw new MqttDecodeError("unexpected", `packet type ${type} is sent only by servers`);
    default:
      throw new MqttDecodeError("unexpected", `reserved packet type ${type}`);
  }
}

/** Sequential reads over one packet body; every read checks bounds and throws MqttDecodeError. */
class Reader {
  private offset = 0;

  constructor(private readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  u8(): number {
    this.need(1);
    return this.buf[this.offset++];
  }

  u16(): number {
    this.need(2);
    const value = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  bytes(): Buffer {
    const length = this.u16();
    this.need(length);
    const value = this.buf.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  /** A UTF-8 string as section 1.5.3 defines it: well-formed and free of U+0000. */
  string(what: string): string {
    const raw = this.bytes();
    let value: string;
    try {
      value = utf8.decode(raw);
    } catch {
      throw new MqttDecodeError("malformed", `${what} is not valid UTF-8`);
    }
    if (value.includes("\u0000")) {
      throw new MqttDecodeError("malformed", `${what} contains U+0000`);
    }
    return value;
  }

  rest(): Buffer {
    const value = this.buf.subarray(this.offset);
    this.offset = this.buf.length;
    return value;
  }

  packetId(): number {
    const id = this.u16();
    if (id === 0) {
      throw new MqttDecodeError("malformed", "packet identifier 0");
    }
    return id;
  }

  end(what: string): void {
    if (this.remaining !== 0) {
      throw new MqttDecodeError("malformed", `${this.remaining} trailing bytes in ${what}`);
    }
  }

  private need(count: number): void {
    if (this.offset + count > this.buf.length) {
      throw new MqttDecodeError("malformed", "packet body shorter than its fields");
    }
  }
}

function decodeFrame(header: number, body: Buffer): ClientPacket {
  const type = header >> 4;
  const reader = new Reader(body);
  switch (type) {
    case PacketType.Connect:
      return decodeConnect(reader);
    case PacketType.Publish:
      return decodePublish(header, reader);
    case PacketType.Puback:
      return decodeAck("puback", reader);
    case PacketType.Pubrec:
      return decodeAck("pubrec", reader);
    case PacketType.Pubrel:
      return decodeAck("pubrel", reader);
    case PacketType.Pubcomp:
      return decodeAck("pubcomp", reader);
    case PacketType.Subscribe:
      return decodeSubscribe(reader);
    case PacketType.Unsubscribe:
      return decodeUnsubscribe(reader);
    case PacketType.Pingreq:
      reader.end("PINGREQ");
      return { type: "pingreq" };
    case PacketType.Disconnect:
      reader.end("DISCONNECT");
      return { type: "disconnect" };
    default:
      // checkFixedHeader already refused every other type.
      throw new MqttDecodeError("unexpected", `packet type ${type}`);
  }
}

function decodeAck(type: AckPacket["type"], reader: Reader): AckPacket {
  const packet: AckPacket = { type, packetId: reader.packetId() };
  reader.end(type.toUpperCase());
  return packet;
}

function decodeConnect(reader: Reader): ConnectPacket | UnsupportedConnectPacket {
  const protocolName = reader.string("protocol name");
  const protocolLevel = reader.u8();
  if (protocolName !== "MQTT" || protocolLevel !== 4) {
    return { type: "connectUnsupported", protocolName, protocolLevel };
  }
  const flags = reader.u8();
  if (flags & 0x01) {
    throw new MqttDecodeError("malformed", "CONNECT reserved flag set");
  }
  const cleanSession = (flags & 0x02) !== 0;
  const willFlag = (flags & 0x04) !== 0;
  const willQos = (flags >> 3) & 0x03;
  const willRetain = (flags & 0x20) !== 0;
  const passwordFlag = (flags & 0x40) !== 0;
  const usernameFlag = (flags & 0x80) !== 0;
  if (willQos === 3) {
    throw new MqttDecodeError("malformed", "CONNECT will QoS 3");
  }
  if (!willFlag && (willQos !== 0 || willRetain)) {
    throw new MqttDecodeError("malformed", "CONNECT will QoS or retain set without a will");
  }
  if (passwordFlag && !usernameFlag) {
    throw new MqttDecodeError("malformed", "CONNECT password without a user name");
  }
  const keepalive = reader.u16();
  const clientId = reader.string("client identifier");
  const packet: ConnectPacket = {
    type: "connect",
    protocolName,
    protocolLevel,
    cleanSession,
    keepalive,
    clientId,
  };
  if (willFlag) {
    const topic = reader.string("will topic");
    const payload = reader.bytes();
    packet.will = { topic, payload, qos: willQos as QoS, retain: willRetain };
  }
  if (usernameFlag) {
    packet.username = reader.string("user name");
  }
  if (passwordFlag) {
    packet.password = reader.bytes();
  }
  reader.end("CONNECT");
  return packet;
}

function decodePublish(header: number, reader: Reader): PublishPacket {
  const qos = (header >> 1) & 0x03;
  if (qos === 3) {
    throw new MqttDecodeError("malformed", "PUBLISH QoS 3");
  }
  const topic = reader.string("topic name");
  if (topic.length === 0 || topic.includes("+") || topic.includes("#")) {
    throw new MqttDecodeError("malformed", `PUBLISH topic name ${JSON.stringify(topic)} is empty or has wildcards`);
  }
  const packet: PublishPacket = {
    type: "publish",
    topic,
    payload: Buffer.alloc(0),
    qos: qos as QoS,
    dup: (header & 0x08) !== 0,
    retain: (header & 0x01) !== 0,
  };
  if (qos > 0) {
    packet.packetId = reader.packetId();
  }
  // Copied so a caller holding the payload does not pin the decoder's whole receive buffer.
  packet.payload = Buffer.from(reader.rest());
  return packet;
}

function decodeSubscribe(reader: Reader): SubscribePacket {
  const packetId = reader.packetId();
  const subscriptions: Subscription[] = [];
  while (reader.remaining > 0) {
    const filter = reader.string("topic filter");
    const options = reader.u8();
    if (options & 0xfc) {
      throw new MqttDecodeError("malformed", "SUBSCRIBE requested-QoS reserved bits set");
    }
    if (options === 3) {
      throw new MqttDecodeError("malformed", "SUBSCRIBE requested QoS 3");
    }
    subscriptions.push({ filter, qos: options as QoS });
  }
  if (subscriptions.length === 0) {
    throw new MqttDecodeError("malformed", "SUBSCRIBE without topic filters");
  }
  return { type: "subscribe", packetId, subscriptions };
}

function decodeUnsubscribe(reader: Reader): UnsubscribePacket {
  const packetId = reader.packetId();
  const filters: string[] = [];
  while (reader.remaining > 0) {
    filters.push(reader.string("topic filter"));
  }
  if (filters.length === 0) {
    throw new MqttDecodeError("malformed", "UNSUBSCRIBE without topic filters");
  }
  return { type: "unsubscribe", packetId, filters };
}

// ---- encoding (server to client) ----

function frame(header: number, body: Buffer): Buffer {
  if (body.length > MAX_REMAINING_LENGTH) {
    throw new RangeError(`packet body of ${body.length} bytes exceeds the MQTT maximum`);
  }
  const lengthBytes: number[] = [];
  let remaining = body.length;
  do {
    let byte = remaining % 128;
    remaining = Math.floor(remaining / 128);
    if (remaining > 0) {
      byte |= 0x80;
    }
    lengthBytes.push(byte);
  } while (remaining > 0);
  return Buffer.concat([Buffer.from([header, ...lengthBytes]), body]);
}

function u16(value: number): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new RangeError(`${value} is not a 16-bit unsigned integer`);
  }
  const buf = Buffer.alloc(2);
  buf.writeUInt16BE(value);
  return buf;
}

function packetId(value: number): Buffer {
  if (value === 0) {
    throw new RangeError("packet identifier 0");
  }
  return u16(value);
}

/** CONNACK; session present is always 0 here since the server keeps no sessions. */
export function encodeConnack(returnCode: ConnackReturnCode, sessionPresent = false): Buffer {
  return frame(PacketType.Connack << 4, Buffer.from([sessionPresent ? 1 : 0, returnCode]));
}

export interface OutgoingPublish {
  topic: string;
  payload: Buffer;
  qos: 0 | 1;
  /** Required when qos is 1. */
  packetId?: number;
  dup?: boolean;
  retain?: boolean;
}

export function encodePublish(publish: OutgoingPublish): Buffer {
  const topic = Buffer.from(publish.topic, "utf8");
  const parts = [u16(topic.length), topic];
  if (publish.qos > 0) {
    if (publish.packetId === undefined) {
      throw new RangeError("QoS 1 PUBLISH needs a packet identifier");
    }
    parts.push(packetId(publish.packetId));
  }
  parts.push(publish.payload);
  const header =
    (PacketType.Publish << 4) | (publish.dup ? 0x08 : 0) | (publish.qos << 1) | (publish.retain ? 0x01 : 0);
  return frame(header, Buffer.concat(parts));
}

export function encodePuback(id: number): Buffer {
  return frame(PacketType.Puback << 4, packetId(id));
}

/** SUBACK with one return code per filter: the granted QoS, or SUBACK_FAILURE. */
export function encodeSuback(id: number, returnCodes: readonly number[]): Buffer {
  for (const code of returnCodes) {
    if (code !== 0 && code !== 1 && code !== 2 && code !== SUBACK_FAILURE) {
      throw new RangeError(`SUBACK return code ${code}`);
    }
  }
  return frame(PacketType.Suback << 4, Buffer.concat([packetId(id), Buffer.from(returnCodes)]));
}

export function encodeUnsuback(id: number): Buffer {
  return frame(PacketType.Unsuback << 4, packetId(id));
}

export function encodePingresp(): Buffer {
  return frame(PacketType.Pingresp << 4, Buffer.alloc(0));
}
