// The MQTT 3.1.1 codec: exact bytes in, exact packets out (whole, split and joined frames, malformed and oversize
// input) and exact bytes out of the server-side encoders.
import {
  ClientPacket,
  DecodeResult,
  MAX_PACKET_SIZE,
  MqttDecodeError,
  PacketDecoder,
  PublishPacket,
  encodeConnack,
  encodePingresp,
  encodePuback,
  encodePublish,
  encodeSuback,
  encodeUnsuback,
} from "./packets";

/** Bytes from a hex string with optional spaces, e.g. "10 0c 00 04". */
function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ""), "hex");
}

/** Hex of a string's UTF-8 bytes, for readable test vectors. */
function str(text: string): string {
  return Buffer.from(text, "utf8").toString("hex");
}

function decodeAll(...chunks: Buffer[]): DecodeResult {
  const decoder = new PacketDecoder();
  const packets: ClientPacket[] = [];
  let error: MqttDecodeError | undefined;
  for (const chunk of chunks) {
    const result = decoder.push(chunk);
    packets.push(...result.packets);
    error ??= result.error;
  }
  return { packets, error };
}

// CONNECT: client id "dev1", keepalive 180, clean session, user name "u", password "p".
const connectBytes = hex(`10 16 0004 ${str("MQTT")} 04 c2 00b4 0004 ${str("dev1")} 0001 ${str("u")} 0001 ${str("p")}`);
const connectPacket: ClientPacket = {
  type: "connect",
  protocolName: "MQTT",
  protocolLevel: 4,
  cleanSession: true,
  keepalive: 180,
  clientId: "dev1",
  username: "u",
  password: Buffer.from("p"),
};
// SUBSCRIBE id 1 to "$dps/registrations/res/#" at QoS 1, as the DPS device SDK sends it.
const subscribeBytes = hex(`82 1d 0001 0018 ${str("$dps/registrations/res/#")} 01`);
// PUBLISH QoS 1 id 2 to "a/b" with payload "hi".
const publishBytes = hex(`32 09 0003 ${str("a/b")} 0002 ${str("hi")}`);

describe("PacketDecoder", () => {
  test("decodes CONNECT with user name and password", () => {
    expect(decodeAll(connectBytes)).toEqual({ packets: [connectPacket], error: undefined });
  });

  test("decodes CONNECT with a will and without credentials", () => {
    // Flags 0x2e: will retain, will QoS 1, will flag, clean session.
    const bytes = hex(`10 18 0004 ${str("MQTT")} 04 2e 0000 0001 ${str("c")} 0003 ${str("w/t")} 0004 ${str("gone")}`);
    expect(decodeAll(bytes).packets).toEqual([
      {
        type: "connect",
        protocolName: "MQTT",
        protocolLevel: 4,
        cleanSession: true,
        keepalive: 0,
        clientId: "c",
        will: { topic: "w/t", payload: Buffer.from("gone"), qos: 1, retain: true },
      },
    ]);
  });

  test("reports other protocol names and levels without parsing the rest", () => {
    const mqtt31 = hex(`10 0c 0006 ${str("MQIsdp")} 03 02 003c`);
    // MQTT 5 carries properties after the keepalive, which a 3.1.1 parser would misread.
    const mqtt5 = hex(`10 0d 0004 ${str("MQTT")} 05 02 003c 00 0000`);
    expect(decodeAll(mqtt31).packets).toEqual([
      { type: "connectUnsupported", protocolName: "MQIsdp", protocolLevel: 3 },
    ]);
    expect(decodeAll(mqtt5).packets).toEqual([{ type: "connectUnsupported", protocolName: "MQTT", protocolLevel: 5 }]);
  });

  test("decodes PUBLISH at QoS 0 and 1 with their flags", () => {
    const qos0 = hex(`31 07 0003 ${str("a/b")} ${str("xy")}`);
    const qos1Dup = hex(`3a 09 0003 ${str("a/b")} 1234 ${str("hi")}`);
    expect(decodeAll(qos0, publishBytes, qos1Dup).packets).toEqual([
      { type: "publish", topic: "a/b", payload: Buffer.from("xy"), qos: 0, dup: false, retain: true },
      { type: "publish", topic: "a/b", payload: Buffer.from("hi"), qos: 1, dup: false, retain: false, packetId: 2 },
      { type: "publish", topic: "a/b", payload: Buffer.from("hi"), qos: 1, dup: true, retain: false, packetId: 0x1234 },
    ]);
  });

  test("decodes PUBLISH QoS 2 and an empty payload (the server decides what to do with QoS 2)", () => {
    expect(decodeAll(hex(`34 07 0003 ${str("a/b")} 0007`)).packets).toEqual([
      { type: "publish", topic: "a/b", payload: Buffer.alloc(0), qos: 2, dup: false, retain: false, packetId: 7 },
    ]);
  });

  test("decodes SUBSCRIBE, UNSUBSCRIBE, the acknowledgements, PINGREQ and DISCONNECT", () => {
    const bytes = [
      subscribeBytes,
      hex(`82 0c 0009 0003 ${str("a/+")} 00 0001 ${str("#")} 02`),
      hex(`a2 0a 000a 0003 ${str("a/+")} 0001 ${str("#")}`),
      hex("40 02 0001"),
      hex("50 02 0002"),
      hex("62 02 0003"),
      hex("70 02 0004"),
      hex("c0 00"),
      hex("e0 00"),
    ];
    expect(decodeAll(...bytes)).toEqual({
      packets: [
        { type: "subscribe", packetId: 1, subscriptions: [{ filter: "$dps/registrations/res/#", qos: 1 }] },
        {
          type: "subscribe",
          packetId: 9,
          subscriptions: [
            { filter: "a/+", qos: 0 },
            { filter: "#", qos: 2 },
          ],
        },
        { type: "unsubscribe", packetId: 10, filters: ["a/+", "#"] },
        { type: "puback", packetId: 1 },
        { type: "pubrec", packetId: 2 },
        { type: "pubrel", packetId: 3 },
        { type: "pubcomp", packetId: 4 },
        { type: "pingreq" },
        { type: "disconnect" },
      ],
      error: undefined,
    });
  });

  test("leaves malformed topic filters to the server", () => {
    expect(decodeAll(hex(`82 08 0001 0003 ${str("a#b")} 01`)).packets).toEqual([
      { type: "subscribe", packetId: 1, subscriptions: [{ filter: "a#b", qos: 1 }] },
    ]);
  });

  test("reassembles frames split at every byte, including inside the remaining length", () => {
    const payload = Buffer.alloc(200, 0x61);
    // Remaining length 2 + 3 + 2 + 200 = 207 takes two bytes: 0xcf 0x01.
    const big = Buffer.concat([hex(`32 cf 01 0003 ${str("a/b")} 0005`), payload]);
    const stream = Buffer.concat([connectBytes, subscribeBytes, big]);
    const decoder = new PacketDecoder();
    const packets: ClientPacket[] = [];
    for (let index = 0; index < stream.length; index++) {
      const result = decoder.push(stream.subarray(index, index + 1));
      expect(result.error).toBeUndefined();
      packets.push(...result.packets);
    }
    expect(packets).toEqual([
      connectPacket,
      { type: "subscribe", packetId: 1, subscriptions: [{ filter: "$dps/registrations/res/#", qos: 1 }] },
      { type: "publish", topic: "a/b", payload, qos: 1, dup: false, retain: false, packetId: 5 },
    ]);
  });

  test("returns every frame joined in one chunk and keeps a trailing partial frame for the next push", () => {
    const decoder = new PacketDecoder();
    const joined = Buffer.concat([connectBytes, subscribeBytes, hex("c0 00"), publishBytes.subarray(0, 4)]);
    expect(decoder.push(joined)).toEqual({
      packets: [
        connectPacket,
        { type: "subscribe", packetId: 1, subscriptions: [{ filter: "$dps/registrations/res/#", qos: 1 }] },
        { type: "pingreq" },
      ],
    });
    expect(decoder.push(publishBytes.subarray(4))).toEqual({
      packets: [
        { type: "publish", topic: "a/b", payload: Buffer.from("hi"), qos: 1, dup: false, retain: false, packetId: 2 },
      ],
    });
  });

  test("accepts a packet of exactly the maximum size and refuses one byte more before its body arrives", () => {
    // Fixed header 1 + 3 length bytes, topic 2 + 1, packet id 2: the payload fills the rest.
    const overhead = 1 + 3 + 2 + 1 + 2;
    const encode = (payloadLength: number): Buffer =>
      encodePublish({ topic: "t", payload: Buffer.alloc(payloadLength), qos: 1, packetId: 1 });
    const exact = encode(MAX_PACKET_SIZE - overhead);
    expect(exact.length).toBe(MAX_PACKET_SIZE);
    const accepted = new PacketDecoder().push(exact);
    expect(accepted.error).toBeUndefined();
    expect(accepted.packets).toHaveLength(1);

    const oversize = encode(MAX_PACKET_SIZE - overhead + 1);
    const result = new PacketDecoder().push(oversize.subarray(0, 4));
    expect(result.packets).toEqual([]);
    expect(result.error).toBeInstanceOf(MqttDecodeError);
    expect(result.error?.kind).toBe("oversize");
  });

  test("honours a smaller maximum given to the constructor", () => {
    const result = new PacketDecoder(8).push(publishBytes);
    expect(result.error?.kind).toBe("oversize");
    expect(new PacketDecoder(11).push(publishBytes).error).toBeUndefined();
  });

  test.each<[string, string, "malformed" | "unexpected"]>([
    ["a fifth remaining-length byte", "30 ff ff ff ff 01", "malformed"],
    ["a continuation bit on the fourth remaining-length byte", "30 80 80 80 80", "malformed"],
    ["reserved packet type 0", "00 00", "unexpected"],
    ["reserved packet type 15", "f0 00", "unexpected"],
    ["CONNACK from a client", "20 02 00 00", "unexpected"],
    ["PINGRESP from a client", "d0 00", "unexpected"],
    ["SUBSCRIBE with flags 0", `80 08 0001 0003 ${str("a/b")} 00`, "malformed"],
    ["PINGREQ with flags", "c1 00", "malformed"],
    ["PINGREQ with a body", "c0 01 00", "malformed"],
    ["PUBACK with trailing bytes", "40 03 0001 00", "malformed"],
    ["PUBACK with packet id 0", "40 02 0000", "malformed"],
    ["PUBLISH QoS 3", `36 07 0003 ${str("a/b")} 0001`, "malformed"],
    ["PUBLISH QoS 1 with packet id 0", `32 07 0003 ${str("a/b")} 0000`, "malformed"],
    ["PUBLISH to an empty topic", "30 02 0000", "malformed"],
    ["PUBLISH to a topic with a wildcard", `30 05 0003 ${str("a/+")}`, "malformed"],
    ["PUBLISH with a topic longer than the packet", `30 04 0009 ${str("ab")}`, "malformed"],
    ["a topic that is not UTF-8", "30 05 0003 61 ff 62", "malformed"],
    ["a topic containing U+0000", "30 05 0003 61 00 62", "malformed"],
    ["SUBSCRIBE without filters", "82 02 0001", "malformed"],
    ["SUBSCRIBE requesting QoS 3", `82 08 0001 0003 ${str("a/b")} 03`, "malformed"],
    ["SUBSCRIBE with reserved option bits", `82 08 0001 0003 ${str("a/b")} 41`, "malformed"],
    ["SUBSCRIBE missing the QoS byte", `82 07 0001 0003 ${str("a/b")}`, "malformed"],
    ["UNSUBSCRIBE without filters", "a2 02 0001", "malformed"],
    ["CONNECT with the reserved flag", `10 11 0004 ${str("MQTT")} 04 03 003c 0005 ${str("abcde")}`, "malformed"],
    [
      "CONNECT with a password but no user name",
      `10 10 0004 ${str("MQTT")} 04 42 003c 0001 ${str("a")} 0001 ${str("p")}`,
      "malformed",
    ],
    ["CONNECT with will QoS but no will", `10 0d 0004 ${str("MQTT")} 04 0a 003c 0001 ${str("a")}`, "malformed"],
    ["CONNECT with trailing bytes", `10 0e 0004 ${str("MQTT")} 04 02 003c 0001 ${str("a")} 00`, "malformed"],
    ["CONNECT cut short", `10 0a 0004 ${str("MQTT")} 04 02 003c`, "malformed"],
  ])("refuses %s", (_name, bytes, kind) => {
    const result = new PacketDecoder().push(hex(bytes));
    expect(result.packets).toEqual([]);
    expect(result.error).toBeInstanceOf(MqttDecodeError);
    expect(result.error?.kind).toBe(kind);
  });

  test("returns the packets before an error and then stays failed", () => {
    const decoder = new PacketDecoder();
    const first = decoder.push(Buffer.concat([connectBytes, hex("c0 01 00"), hex("e0 00")]));
    expect(first.packets).toEqual([connectPacket]);
    expect(first.error?.kind).toBe("malformed");
    const later = decoder.push(hex("c0 00"));
    expect(later.packets).toEqual([]);
    expect(later.error).toBe(first.error);
  });
});

describe("encoders", () => {
  test("CONNACK", () => {
    expect(encodeConnack(0)).toEqual(hex("20 02 00 00"));
    expect(encodeConnack(5)).toEqual(hex("20 02 00 05"));
    expect(encodeConnack(0, true)).toEqual(hex("20 02 01 00"));
  });

  test("PUBLISH at QoS 0 and 1", () => {
    expect(encodePublish({ topic: "a/b", payload: Buffer.from("hi"), qos: 0 })).toEqual(
      hex(`30 07 0003 ${str("a/b")} ${str("hi")}`),
    );
    expect(encodePublish({ topic: "a/b", payload: Buffer.from("hi"), qos: 1, packetId: 2 })).toEqual(publishBytes);
    expect(
      encodePublish({ topic: "a/b", payload: Buffer.alloc(0), qos: 1, packetId: 0xfffe, dup: true, retain: true }),
    ).toEqual(hex(`3b 07 0003 ${str("a/b")} fffe`));
    expect(() => encodePublish({ topic: "a/b", payload: Buffer.alloc(0), qos: 1 })).toThrow(RangeError);
  });

  test.each([
    [127, "7f"],
    [128, "80 01"],
    [321, "c1 02"],
    [16_383, "ff 7f"],
    [16_384, "80 80 01"],
    [2_097_151, "ff ff 7f"],
    [2_097_152, "80 80 80 01"],
  ])("encodes remaining length %d as %s and decodes it back", (remaining, lengthHex) => {
    // Topic "t" takes 3 bytes of the remaining length at QoS 0.
    const payload = Buffer.alloc(remaining - 3, 0x7a);
    const bytes = encodePublish({ topic: "t", payload, qos: 0 });
    const lengthBytes = hex(lengthHex);
    expect(bytes.subarray(0, 1 + lengthBytes.length)).toEqual(Buffer.concat([hex("30"), lengthBytes]));
    expect(bytes.length).toBe(1 + lengthBytes.length + remaining);
    const result = new PacketDecoder(bytes.length).push(bytes);
    expect(result.error).toBeUndefined();
    expect(result.packets).toHaveLength(1);
    // Buffer.equals rather than toEqual: Jest compares megabyte buffers element by element, taking seconds.
    const { payload: decoded, ...rest } = result.packets[0] as PublishPacket;
    expect(rest).toEqual({ type: "publish", topic: "t", qos: 0, dup: false, retain: false });
    expect(decoded.equals(payload)).toBe(true);
  });

  test("PUBACK, SUBACK, UNSUBACK and PINGRESP", () => {
    expect(encodePuback(0x0102)).toEqual(hex("40 02 01 02"));
    expect(encodeSuback(10, [1, 0x80, 0])).toEqual(hex("90 05 000a 01 80 00"));
    expect(encodeUnsuback(65_535)).toEqual(hex("b0 02 ff ff"));
    expect(encodePingresp()).toEqual(hex("d0 00"));
    expect(() => encodePuback(0)).toThrow(RangeError);
    expect(() => encodeSuback(1, [3])).toThrow(RangeError);
  });
});
