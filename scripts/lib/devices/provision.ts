// One simulated device provisioning itself as a real one does: its enrollment and earlier registration looked up
// through the service API (to say what reprovisioning did), its registration with Microsoft's device SDK, then its
// twin read from the assigned hub with the hub registry client. Every way this can end is an outcome to print, not an
// exception: a missing enrollment or group, a disabled one, a refusal, a failure.
import type { ProvisioningServiceClient } from "azure-iot-provisioning-service";
import type { RegistrationResult } from "azure-iot-provisioning-device/dist/interfaces";

import { reprovisionPolicyOf } from "../../../dynamic-providers/enrollment/wire";
import type { ReprovisionPolicy } from "../../../dynamic-providers/enrollment/types";
import type { HubConnectionInfo } from "../../../emulator/server";
import { createHubRegistry } from "../hub-registry";
import { registerWithCertificate, registerWithKey, type DeviceEndpoint, type Transport } from "./device-client";

/** A simulated device: how it attests, through which enrollment, over which transport. */
export interface DeviceSpec {
  registrationId: string;
  attestation: "x509" | "symmetricKey";
  /** Its enrollment group; without one, the individual enrollment of its registration ID. */
  groupId?: string;
  transport: Transport;
}

/** What the device proves itself with. */
export type DeviceCredentials = { key: string } | { certPem: string; keyPem: string };

export interface ProvisioningContext<S extends DeviceSpec = DeviceSpec> {
  /** The DPS's service API (enrollments and registration records). */
  service: ProvisioningServiceClient;
  /** The DPS's device API. */
  endpoint: DeviceEndpoint;
  /** The DPS's linked hubs, with connection strings that may read twins. */
  hubs: HubConnectionInfo[];
  /** Extra CA certificate (PEM) of the hubs. */
  hubCa?: string;
  /** The device's credentials, read only when its enrollment exists. */
  credentials(spec: S): Promise<DeviceCredentials>;
}

/** A hub as printed: its name and host name. */
export interface HubRef {
  name: string;
  hostName: string;
}

/** The registration the device had before this one, from DPS's registration record. */
export interface PreviousRegistration {
  status: string;
  hub?: HubRef;
}

export type DeviceOutcome =
  | { kind: "missing"; spec: DeviceSpec }
  | {
      kind: "assigned";
      spec: DeviceSpec;
      hub: HubRef;
      deviceId: string;
      substatus: string;
      desired: Record<string, unknown>;
      policy: ReprovisionPolicy;
      previous?: PreviousRegistration;
    }
  | { kind: "refused"; spec: DeviceSpec; status: string; errorCode?: number; errorMessage?: string }
  | { kind: "error"; spec: DeviceSpec; message: string };

interface EnrollmentDoc {
  provisioningStatus?: string;
  reprovisionPolicy?: { updateHubAssignment: boolean; migrateDeviceData: boolean };
}

function statusOf(err: unknown): number | undefined {
  return (err as { response?: { statusCode?: number } }).response?.statusCode;
}

/** The response body of a service call, or undefined when DPS answers 404. */
async function unlessNotFound<T>(call: Promise<{ responseBody: unknown }>): Promise<T | undefined> {
  try {
    return (await call).responseBody as T;
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

function hubRef(hubs: readonly HubConnectionInfo[], hostName: string): HubRef {
  const hub = hubs.find((h) => h.hostName.toLowerCase() === hostName.toLowerCase());
  return { name: hub?.name ?? hostName, hostName };
}

/** A twin's desired properties without the hub's own `$metadata` and `$version`. */
export function desiredProperties(twin: unknown): Record<string, unknown> {
  const desired = (twin as { properties?: { desired?: Record<string, unknown> } }).properties?.desired ?? {};
  return Object.fromEntries(Object.entries(desired).filter(([key]) => !key.startsWith("$")));
}

async function readDesired<S extends DeviceSpec>(context: ProvisioningContext<S>, hostName: string, deviceId: string) {
  const hub = context.hubs.find((h) => h.hostName.toLowerCase() === hostName.toLowerCase());
  if (!hub) throw new Error(`the assigned hub ${hostName} is not one of the DPS's linked hubs`);
  const url = new URL(hub.endpoint);
  const registry = createHubRegistry({
    connectionString: hub.connectionString,
    port: Number(url.port || 443),
    ...(context.hubCa === undefined ? {} : { ca: context.hubCa }),
  });
  return desiredProperties((await registry.getTwin(deviceId)).responseBody);
}

function register<S extends DeviceSpec>(context: ProvisioningContext<S>, spec: S, credentials: DeviceCredentials) {
  const { endpoint } = context;
  return "key" in credentials
    ? registerWithKey(endpoint, spec.transport, spec.registrationId, credentials.key)
    : registerWithCertificate(endpoint, spec.transport, spec.registrationId, credentials.certPem, credentials.keyPem);
}

/** What DPS said when it did not assign the device: the SDK rejects with the operation's result attached. */
function refusal(spec: DeviceSpec, err: unknown): DeviceOutcome | undefined {
  const result = (err as { result?: { status?: string; registrationState?: Record<string, unknown> } }).result;
  if (!result?.status) return undefined;
  const state = result.registrationState ?? {};
  return {
    kind: "refused",
    spec,
    status: result.status,
    ...(typeof state.errorCode === "number" ? { errorCode: state.errorCode } : {}),
    ...(typeof state.errorMessage === "string" ? { errorMessage: state.errorMessage } : {}),
  };
}

export async function provisionDevice<S extends DeviceSpec>(
  spec: S,
  context: ProvisioningContext<S>,
): Promise<DeviceOutcome> {
  const { service } = context;
  try {
    const enrollment = await unlessNotFound<EnrollmentDoc>(
      spec.groupId === undefined
        ? service.getIndividualEnrollment(spec.registrationId)
        : service.getEnrollmentGroup(spec.groupId),
    );
    if (!enrollment) return { kind: "missing", spec };
    const before = await unlessNotFound<{ status: string; assignedHub?: string }>(
      service.getDeviceRegistrationState(spec.registrationId),
    );
    const previous: PreviousRegistration | undefined = before && {
      status: before.status,
      ...(before.assignedHub ? { hub: hubRef(context.hubs, before.assignedHub) } : {}),
    };
    let result: RegistrationResult;
    try {
      result = await register(context, spec, await context.credentials(spec));
    } catch (err) {
      const refused = refusal(spec, err);
      if (refused) return refused;
      throw err;
    }
    return {
      kind: "assigned",
      spec,
      hub: hubRef(context.hubs, result.assignedHub),
      deviceId: result.deviceId,
      substatus: String(result.substatus ?? ""),
      desired: await readDesired(context, result.assignedHub, result.deviceId),
      policy: reprovisionPolicyOf(enrollment.reprovisionPolicy),
      ...(previous ? { previous } : {}),
    };
  } catch (err) {
    return { kind: "error", spec, message: err instanceof Error ? err.message : String(err) };
  }
}
