import { deriveDeviceKey } from "./device-key";

describe("deriveDeviceKey", () => {
  test("is Microsoft's documented derivation (golden vector)", () => {
    expect(
      deriveDeviceKey(
        "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==",
        "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6",
      ),
    ).toBe("Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=");
  });

  test("depends on the registration ID and the key: another device, another key", () => {
    const group = Buffer.alloc(64, 7).toString("base64");
    expect(deriveDeviceKey(group, "device-a")).toBe("xxlff8G0c+mFmQeggsD+4iR0KzDXG61OAyJ+goE0PjU=");
    expect(deriveDeviceKey(group, "device-b")).not.toBe(deriveDeviceKey(group, "device-a"));
  });

  test("refuses a key that is not base64, and an empty registration ID", () => {
    expect(() => deriveDeviceKey("not a key!", "d")).toThrow(
      "the group key must be base64 (a symmetric-key enrollment group's primary or secondary key)",
    );
    expect(() => deriveDeviceKey(Buffer.alloc(32, 1).toString("base64"), "")).toThrow(
      "the registration ID must not be empty",
    );
  });
});
