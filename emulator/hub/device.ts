// Device identities as an IoT hub's registry keeps them (pure: no I/O): the stored record, the JSON of
// GET /devices/{id} and GET /twins/{id} (api-version 2021-04-12), and a PUT body turned into a record.
import { randomBytes, randomInt } from "node:crypto";

import { HubError } from "./errors";
import { twinEtag, twinProperties, type StoredTwin } from "./twin";

export type DeviceAuthentication =
  | { type: "sas"; symmetricKey: { primaryKey: string; secondaryKey: string } }
  | { type: "selfSigned"; x509Thumbprint: { primaryThumbprint: string; secondaryThumbprint: string | null } }
  | { type: "certificateAuthority" }
  | { type: "none" };

/** A device identity on one hub, with its twin. */
export interface HubDevice {
  /** Host name of the hub. */
  hub: string;
  deviceId: string;
  /** The DPS registration that made it, when DPS did. */
  registrationId?: string;
  /** Tells a device from an earlier one of the same ID. */
  generationId: string;
  etag: string;
  status: "enabled" | "disabled";
  statusUpdatedTime: string;
  authentication: DeviceAuthentication;
  iotEdge: boolean;
  twin: StoredTwin;
}

/** What IoT Hub reports for times that never happened (a device that never connected). */
export const never = "0001-01-01T00:00:00Z";

/** IoT Hub device IDs: up to 128 ASCII letters, digits and - : . + % _ # * ? ! ( ) , = @ ; $ ' (case-sensitive). */
export function isDeviceId(id: string): boolean {
  return /^[A-Za-z0-9\-:.+%_#*?!(),=@;$']{1,128}$/.test(id);
}

export function newGenerationId(): string {
  return `63${String(Date.now())}${String(randomInt(100_000)).padStart(5, "0")}`.slice(0, 18);
}

/** Device etags are base64 of a decimal number, as IoT Hub's ("MTk2OTc3MDEx"). */
export function newDeviceEtag(): string {
  return Buffer.from(String(randomInt(1, 2 ** 31))).toString("base64");
}

/** GET /devices/{id}. */
export function deviceView(device: HubDevice): Record<string, unknown> {
  const auth = device.authentication;
  return {
    deviceId: device.deviceId,
    generationId: device.generationId,
    etag: device.etag,
    connectionState: "Disconnected",
    status: device.status,
    statusReason: null,
    connectionStateUpdatedTime: never,
    statusUpdatedTime: device.statusUpdatedTime,
    lastActivityTime: never,
    cloudToDeviceMessageCount: 0,
    authentication: {
      symmetricKey: auth.type === "sas" ? { ...auth.symmetricKey } : { primaryKey: null, secondaryKey: null },
      x509Thumbprint:
        auth.type === "selfSigned"
          ? { ...auth.x509Thumbprint }
          : { primaryThumbprint: null, secondaryThumbprint: null },
      type: auth.type,
    },
    capabilities: { iotEdge: device.iotEdge },
  };
}

/** GET /twins/{id}: the twin with the identity fields IoT Hub repeats in it. */
export function twinView(device: HubDevice): Record<string, unknown> {
  const auth = device.authentication;
  return {
    deviceId: device.deviceId,
    etag: twinEtag(device.twin),
    deviceEtag: device.etag,
    status: device.status,
    statusUpdateTime: device.statusUpdatedTime,
    connectionState: "Disconnected",
    lastActivityTime: never,
    cloudToDeviceMessageCount: 0,
    authenticationType: auth.type,
    x509Thumbprint:
      auth.type === "selfSigned" ? { ...auth.x509Thumbprint } : { primaryThumbprint: null, secondaryThumbprint: null },
    modelId: "",
    version: device.twin.version,
    tags: structuredClone(device.twin.tags),
    properties: twinProperties(device.twin),
    capabilities: { iotEdge: device.iotEdge },
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function symmetricKey(field: string, value: unknown): string {
  if (value === undefined || value === null || value === "") {
    return randomBytes(32).toString("base64");
  }
  const bytes = typeof value === "string" && /^[A-Za-z0-9+/]+={0,2}$/.test(value) ? Buffer.from(value, "base64") : null;
  if (!bytes || bytes.length < 16 || bytes.length > 64) {
    throw new HubError("ArgumentInvalid", `${field} must be a base64 key of 16 to 64 bytes`);
  }
  return value as string;
}

function thumbprint(field: string, value: unknown, required: boolean): string | null {
  if ((value === undefined || value === null) && !required) return null;
  if (typeof value !== "string" || !/^([0-9A-Fa-f]{40}|[0-9A-Fa-f]{64})$/.test(value)) {
    throw new HubError("ArgumentInvalid", `${field} must be a SHA-1 or SHA-256 thumbprint in hex`);
  }
  return value.toUpperCase();
}

function authenticationOf(value: unknown): DeviceAuthentication {
  const auth = value === undefined || value === null ? {} : value;
  if (!isObject(auth)) throw new HubError("ArgumentInvalid", "authentication must be a JSON object");
  const type = auth.type ?? "sas";
  const keys = isObject(auth.symmetricKey) ? auth.symmetricKey : {};
  const thumbprints = isObject(auth.x509Thumbprint) ? auth.x509Thumbprint : {};
  switch (type) {
    case "sas":
      return {
        type: "sas",
        symmetricKey: {
          primaryKey: symmetricKey("authentication.symmetricKey.primaryKey", keys.primaryKey),
          secondaryKey: symmetricKey("authentication.symmetricKey.secondaryKey", keys.secondaryKey),
        },
      };
    case "selfSigned":
      return {
        type: "selfSigned",
        x509Thumbprint: {
          primaryThumbprint:
            thumbprint("authentication.x509Thumbprint.primaryThumbprint", thumbprints.primaryThumbprint, true) ?? "",
          secondaryThumbprint: thumbprint(
            "authentication.x509Thumbprint.secondaryThumbprint",
            thumbprints.secondaryThumbprint,
            false,
          ),
        },
      };
    case "certificateAuthority":
      return { type: "certificateAuthority" };
    case "none":
      return { type: "none" };
    default:
      throw new HubError(
        "ArgumentInvalid",
        `authentication.type ${JSON.stringify(type)} must be sas, selfSigned, certificateAuthority or none`,
      );
  }
}

/**
 * PUT /devices/{id}: the record for a device identity body (keys left out are generated, as IoT Hub does). An
 * existing record keeps its generation and twin.
 */
export function deviceFromBody(
  body: unknown,
  deviceId: string,
  hub: string,
  existing: HubDevice | undefined,
  newTwin: () => StoredTwin,
  now: string,
): HubDevice {
  if (!isObject(body)) {
    throw new HubError("ArgumentInvalid", "the device identity must be a JSON object");
  }
  if (body.deviceId !== undefined && body.deviceId !== deviceId) {
    throw new HubError(
      "ArgumentInvalid",
      `deviceId ${JSON.stringify(body.deviceId)} in the body is not the device ID of the path ('${deviceId}')`,
    );
  }
  const status = body.status ?? "enabled";
  if (status !== "enabled" && status !== "disabled") {
    throw new HubError("ArgumentInvalid", `status ${JSON.stringify(status)} must be enabled or disabled`);
  }
  const capabilities = body.capabilities ?? {};
  if (!isObject(capabilities) || (capabilities.iotEdge !== undefined && typeof capabilities.iotEdge !== "boolean")) {
    throw new HubError("ArgumentInvalid", "capabilities.iotEdge must be true or false");
  }
  return {
    hub,
    deviceId,
    registrationId: existing?.registrationId,
    generationId: existing?.generationId ?? newGenerationId(),
    etag: newDeviceEtag(),
    status,
    statusUpdatedTime: !existing ? never : existing.status === status ? existing.statusUpdatedTime : now,
    authentication: authenticationOf(body.authentication),
    iotEdge: capabilities.iotEdge === true,
    twin: existing?.twin ?? newTwin(),
  };
}
