import { deviceFromBody, deviceView, isDeviceId, never, type HubDevice } from "./device";
import { HubError } from "./errors";
import { newTwin } from "./twin";

const now = "2026-01-01T00:00:00.0000000Z";
const fresh = (): HubDevice["twin"] => newTwin(undefined, now);
const key = (bytes: number): string => Buffer.alloc(bytes, 7).toString("base64");
const sha1 = "A".repeat(40);

function fromBody(body: unknown, existing?: HubDevice): HubDevice {
  return deviceFromBody(body, "dev-1", "127.0.0.2", existing, fresh, now);
}

describe("device identity bodies (PUT /devices/{id})", () => {
  test("a new device gets generated 32-byte keys, status enabled and a generation of its own", () => {
    const device = fromBody({ deviceId: "dev-1" });
    expect(device).toMatchObject({
      hub: "127.0.0.2",
      deviceId: "dev-1",
      status: "enabled",
      statusUpdatedTime: never,
      iotEdge: false,
      twin: fresh(),
    });
    expect(device.generationId).toMatch(/^\d{18}$/);
    const auth = device.authentication as { type: string; symmetricKey: { primaryKey: string; secondaryKey: string } };
    expect(auth.type).toBe("sas");
    expect(Buffer.from(auth.symmetricKey.primaryKey, "base64")).toHaveLength(32);
    expect(auth.symmetricKey.secondaryKey).not.toBe(auth.symmetricKey.primaryKey);
  });

  test("an update keeps the generation and the twin, takes the new status with its time, and a new etag", () => {
    const first = fromBody({ authentication: { symmetricKey: { primaryKey: key(16), secondaryKey: key(64) } } });
    const twin = newTwin({ tags: { kept: true } }, now);
    const later = "2026-02-01T00:00:00.0000000Z";
    const updated = deviceFromBody(
      { deviceId: "dev-1", status: "disabled", capabilities: { iotEdge: true } },
      "dev-1",
      "127.0.0.2",
      { ...first, twin },
      fresh,
      later,
    );
    expect(updated).toMatchObject({
      generationId: first.generationId,
      status: "disabled",
      statusUpdatedTime: later,
      iotEdge: true,
      twin,
    });
    expect(updated.etag).not.toBe(first.etag);
  });

  test("selfSigned keeps upper-case thumbprints; certificateAuthority and none need nothing", () => {
    const selfSigned = fromBody({
      authentication: { type: "selfSigned", x509Thumbprint: { primaryThumbprint: "ab".repeat(32) } },
    });
    expect(deviceView(selfSigned).authentication).toEqual({
      symmetricKey: { primaryKey: null, secondaryKey: null },
      x509Thumbprint: { primaryThumbprint: "AB".repeat(32), secondaryThumbprint: null },
      type: "selfSigned",
    });
    expect(fromBody({ authentication: { type: "certificateAuthority" } }).authentication).toEqual({
      type: "certificateAuthority",
    });
    expect(fromBody({ authentication: { type: "none" } }).authentication).toEqual({ type: "none" });
  });

  test.each<[string, unknown, string]>([
    ["a body that is not an object", "dev-1", "the device identity must be a JSON object"],
    [
      "another device ID",
      { deviceId: "dev-2" },
      `deviceId "dev-2" in the body is not the device ID of the path ('dev-1')`,
    ],
    ["an unknown status", { status: "paused" }, 'status "paused" must be enabled or disabled'],
    ["a non-boolean iotEdge", { capabilities: { iotEdge: "yes" } }, "capabilities.iotEdge must be true or false"],
    [
      "a short key",
      { authentication: { symmetricKey: { primaryKey: key(8) } } },
      "authentication.symmetricKey.primaryKey must be a base64 key of 16 to 64 bytes",
    ],
    [
      "a selfSigned device without a thumbprint",
      { authentication: { type: "selfSigned", x509Thumbprint: { secondaryThumbprint: sha1 } } },
      "authentication.x509Thumbprint.primaryThumbprint must be a SHA-1 or SHA-256 thumbprint in hex",
    ],
    [
      "an unknown authentication type",
      { authentication: { type: "tpm" } },
      'authentication.type "tpm" must be sas, selfSigned, certificateAuthority or none',
    ],
  ])("refuses %s with 400 ArgumentInvalid", (_name, body, message) => {
    expect(() => fromBody(body)).toThrow(new HubError("ArgumentInvalid", message));
  });

  test.each<[string, boolean]>([
    ["dev-1", true],
    ["a:b.c+d%e_f#g*h?i!j(k)l,m=n@o;p$q'r", true],
    ["x".repeat(128), true],
    ["x".repeat(129), false],
    ["", false],
    ["with space", false],
    ["slash/", false],
  ])("device ID %j is valid: %s", (id, valid) => {
    expect(isDeviceId(id)).toBe(valid);
  });
});
