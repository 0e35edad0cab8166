// Microsoft's device SDK pointed at a test emulator: scripts/lib/devices/device-client.ts with the emulator's device
// endpoint (its port, MQTT port, ID scope and CA).
import type { RegistrationResult } from "azure-iot-provisioning-device/dist/interfaces";

import type { RunningEmulator } from "../../emulator/server";
import * as client from "../../scripts/lib/devices/device-client";

export type Transport = client.Transport;

/** Registers a device with a symmetric key (an individual enrollment's, or a key derived from a group's). */
export function registerWithKey(
  emulator: RunningEmulator,
  kind: Transport,
  registrationId: string,
  key: string,
  payload?: unknown,
): Promise<RegistrationResult> {
  return client.registerWithKey(client.emulatorDeviceEndpoint(emulator.connection), kind, registrationId, key, payload);
}

/** Registers a device by its X.509 certificate (PEM chain, leaf first) and key. */
export function registerWithCertificate(
  emulator: RunningEmulator,
  kind: Transport,
  registrationId: string,
  certPem: string,
  keyPem: string,
): Promise<RegistrationResult> {
  const endpoint = client.emulatorDeviceEndpoint(emulator.connection);
  return client.registerWithCertificate(endpoint, kind, registrationId, certPem, keyPem);
}
