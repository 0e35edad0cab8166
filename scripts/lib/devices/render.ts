// What the main job prints about its devices: per device its registration ID, how it attests, status, assigned hub,
// device ID, desired properties, and what this registration did (first assignment, or what reprovisioning did).
// Pure: the same outcomes give the same text, so a test can assert it.
import type { DeviceOutcome, DeviceSpec, HubRef } from "./provision";

const transports = { http: "HTTPS", mqtt: "MQTT" } as const;

/** `X.509, individual enrollment, HTTPS` and the like. */
export function describeDevice(spec: DeviceSpec): string {
  const attestation = spec.attestation === "x509" ? "X.509" : "symmetric key";
  const enrollment = spec.groupId === undefined ? "individual enrollment" : `enrollment group ${spec.groupId}`;
  return `${attestation}, ${enrollment}, ${transports[spec.transport]}`;
}

/** JSON with object keys sorted at every level: the hub's key order is not the manifest's. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function hubName(hub: HubRef): string {
  return hub.name === hub.hostName ? hub.hostName : `${hub.name} (${hub.hostName})`;
}

/** What this registration did, from the registration before it, the enrollment's policy and DPS's substatus. */
export function registrationNote(outcome: Extract<DeviceOutcome, { kind: "assigned" }>): string {
  const { previous, policy, substatus, hub } = outcome;
  if (previous?.status !== "assigned" || !previous.hub) {
    const earlier = previous ? ` (it was ${previous.status} before)` : "";
    return `first assignment: ${substatus}${earlier}`;
  }
  const from = previous.hub;
  if (policy === "never") {
    return `re-registered: never, stays on ${from.name}, twin kept (${substatus})`;
  }
  const same = from.hostName === hub.hostName;
  const where = same
    ? "same hub"
    : substatus === "reprovisionedToInitialAssignment"
      ? `moved back from ${from.name} to ${hub.name}, its first hub`
      : `moved from ${from.name} to ${hub.name}`;
  const twin =
    policy === "reprovisionAndResetData" ? "twin reset to the initial twin" : same ? "twin kept" : "twin migrated";
  return `re-registered: ${policy}, ${where}, ${twin} (${substatus})`;
}

function statusLine(outcome: Exclude<DeviceOutcome, { kind: "assigned" | "missing" }>): string {
  if (outcome.kind === "error") return `not registered: ${outcome.message}`;
  const code = outcome.errorCode === undefined ? "" : ` (DPS error ${outcome.errorCode})`;
  const message = outcome.errorMessage ? `: ${outcome.errorMessage}` : "";
  return `${outcome.status}${message}${code}`;
}

function block(title: string, fields: [string, string][]): string {
  const width = Math.max(...fields.map(([label]) => label.length));
  return [title, ...fields.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)].join("\n");
}

/** One outcome: a block of fields, or one line for a device whose enrollment or group is not in the stack. */
export function renderDevice(outcome: DeviceOutcome): string {
  const { spec } = outcome;
  if (outcome.kind === "missing") {
    const what =
      spec.groupId === undefined ? `individual enrollment ${spec.registrationId}` : `enrollment group ${spec.groupId}`;
    return `${spec.registrationId}: ${what} is not in this stack; not provisioned`;
  }
  const title = `${spec.registrationId} (${describeDevice(spec)})`;
  if (outcome.kind !== "assigned") return block(title, [["status", statusLine(outcome)]]);
  return block(title, [
    ["status", "assigned"],
    ["assigned hub", hubName(outcome.hub)],
    ["device ID", outcome.deviceId],
    ["desired properties", stableJson(outcome.desired)],
    ["registration", registrationNote(outcome)],
  ]);
}

/** Every device, blocks apart by a blank line. */
export function renderDevices(outcomes: readonly DeviceOutcome[]): string {
  return outcomes.map(renderDevice).join("\n\n");
}
