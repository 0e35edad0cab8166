// The `local` stack's simulated devices, one of each kind, and where each gets its credentials: certificates and keys
// from the development certificate store, an individual enrollment's key from the stack's secret config, a group
// device's key derived from the group's key that DPS holds. Keys stay in this process's memory: never written, never
// printed.
import type { ProvisioningServiceClient } from "azure-iot-provisioning-service";

import { deviceCredentials, type CertificateStore } from "../../dev-certs";
import { deriveDeviceKey } from "./device-key";
import type { DeviceCredentials, DeviceSpec } from "./provision";

export interface LocalDevice extends DeviceSpec {
  /** Secret stack config holding an individual enrollment's primary key (namespace dps-enrollments). */
  keyConfig?: string;
}

/** Every kind of attestation the local stack enrolls, over both transports. */
export const localFleet: readonly LocalDevice[] = [
  { registrationId: "mydevice", attestation: "x509", transport: "http" },
  {
    registrationId: "edge-gateway-01",
    attestation: "symmetricKey",
    keyConfig: "edgeGatewayPrimaryKey",
    transport: "mqtt",
  },
  { registrationId: "group-device-01", attestation: "x509", groupId: "x509-devices", transport: "mqtt" },
  {
    registrationId: "symmetric-device-01",
    attestation: "symmetricKey",
    groupId: "symmetric-devices",
    transport: "http",
  },
];

export interface CredentialSources {
  store: CertificateStore;
  service: ProvisioningServiceClient;
  /** A secret of the stack's config, decrypted (the CLI's `config get`). */
  stackSecret(key: string): Promise<string>;
}

/** The group's primary key, as DPS returns it to the service API's attestation-mechanism call. */
async function groupPrimaryKey(service: ProvisioningServiceClient, groupId: string): Promise<string> {
  const mechanism = (await service.getEnrollmentGroupAttestationMechanism(groupId)).responseBody as {
    symmetricKey?: { primaryKey?: string };
  };
  const key = mechanism.symmetricKey?.primaryKey;
  if (!key) throw new Error(`enrollment group ${groupId} has no symmetric key`);
  return key;
}

export function localCredentials(sources: CredentialSources): (spec: LocalDevice) => Promise<DeviceCredentials> {
  return async (spec) => {
    if (spec.attestation === "x509") {
      return deviceCredentials(sources.store, spec.registrationId, spec.groupId ? "leaf+intermediate" : "leaf");
    }
    if (spec.groupId !== undefined) {
      return { key: deriveDeviceKey(await groupPrimaryKey(sources.service, spec.groupId), spec.registrationId) };
    }
    if (!spec.keyConfig) throw new Error(`no stack config names the key of ${spec.registrationId}`);
    return { key: await sources.stackSecret(`dps-enrollments:${spec.keyConfig}`) };
  };
}
