import { createSasToken, deriveDeviceKey, parseSasToken, resourceCovers, signSas, signatureMatches } from "./sas";

describe("SAS", () => {
  test("reproduces the documented IoT Hub signature vector", () => {
    const key = "18RQk/hOPJR9EbsJlk2j8WA6vWaj/yi+oaYg7zmxfQNdOyMSu+SJ8O7TSlZhDJCYmn4rzEiVKIzNiVAWjLxrGA==";
    const sr = encodeURIComponent("MyExampleHub.azure-devices.net/devices/my-symkey-device");
    expect(encodeURIComponent(signSas(key, sr, 1663119026))).toBe("f%2BwW8XOKeJOtiPc9Iwjc4OpExvPM7NlhM9qxN2a1aAM%3D");
  });

  test("reproduces the Node SDK's service signature vector", () => {
    const key = Buffer.from("0123456789abcdef0123456789abcdef").toString("base64");
    expect(encodeURIComponent(signSas(key, "localhost", 1795884249))).toBe(
      "Lr4IMWbw34IsnR545fAWHCVjfMVM3PSDLi1X%2B9sBtDo%3D",
    );
  });

  test("derives the documented group device key", () => {
    const groupKey = "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==";
    expect(deriveDeviceKey(groupKey, "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6")).toBe(
      "Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=",
    );
  });

  test("parses tokens with fields in any order and rejects malformed ones", () => {
    expect(parseSasToken("SharedAccessSignature skn=owner&se=10&sig=a%2Bb%3D&sr=host")).toEqual({
      sr: "host",
      sig: "a+b=",
      se: 10,
      skn: "owner",
    });
    expect(parseSasToken("Bearer abc")).toBeUndefined();
    expect(parseSasToken("SharedAccessSignature sr=host&se=10")).toBeUndefined();
    expect(parseSasToken("SharedAccessSignature sr=host&sig=x&se=soon")).toBeUndefined();
    expect(parseSasToken(undefined)).toBeUndefined();
  });

  test("verifies a token made with the right key only", () => {
    const key = Buffer.alloc(32, 7).toString("base64");
    const token = parseSasToken(createSasToken("localhost", key, 2000000000, "owner"));
    expect(token).toBeDefined();
    expect(signatureMatches(token!, key)).toBe(true);
    expect(signatureMatches(token!, Buffer.alloc(32, 8).toString("base64"))).toBe(false);
  });

  test("matches resource URIs by whole segments", () => {
    expect(resourceCovers("Host.Example", "host.example")).toBe(true);
    expect(resourceCovers("scope/registrations/dev1", "scope/registrations/dev1")).toBe(true);
    expect(resourceCovers("scope/registrations", "scope/registrations/dev1")).toBe(true);
    expect(resourceCovers("scope/registrations/dev", "scope/registrations/dev1")).toBe(false);
  });
});
