// Microsoft's device SDK (azure-iot-provisioning-device with its HTTP and MQTT transports and security clients),
// pointed at a test emulator. The SDK always uses port 443 for HTTP; an https.Agent that forces the port is its
// supported hook (`http.agent`), and MQTT takes `host:port` directly.
import * as path from "node:path";
import * as tls from "node:tls";

import type * as HttpBase from "azure-iot-http-base";
import type * as MqttBaseModule from "azure-iot-mqtt-base";
import { ProvisioningDeviceClient } from "azure-iot-provisioning-device";
import type { RegistrationResult } from "azure-iot-provisioning-device/dist/interfaces";
import { Http as ProvisioningHttp } from "azure-iot-provisioning-device-http";
import { Mqtt as ProvisioningMqtt } from "azure-iot-provisioning-device-mqtt";
import { SymmetricKeySecurityClient } from "azure-iot-security-symmetric-key";
import { X509Security } from "azure-iot-security-x509";

import type { RunningEmulator } from "../../emulator/server";
import { PortAgent } from "../../scripts/lib/port-agent";

export type Transport = "http" | "mqtt";

/** A transitive SDK package, resolved as the device transport packages resolve it. */
function transportModule<T>(name: string, from: string): T {
  const fromDir = path.dirname(require.resolve(`${from}/package.json`));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(require.resolve(name, { paths: [fromDir] })) as T;
}

function transport(emulator: RunningEmulator, kind: Transport): ProvisioningHttp | ProvisioningMqtt {
  const ca = [...tls.rootCertificates, emulator.caPem];
  if (kind === "http") {
    const httpBase = transportModule<typeof HttpBase>("azure-iot-http-base", "azure-iot-provisioning-device-http");
    const base = new httpBase.Http();
    base.setOptions({ ca, http: { agent: new PortAgent(emulator.port) } });
    return new ProvisioningHttp(base as never);
  }
  const mqttBase = transportModule<typeof MqttBaseModule>("azure-iot-mqtt-base", "azure-iot-provisioning-device-mqtt");
  const base = new mqttBase.MqttBase();
  base.setOptions({ ca: emulator.caPem });
  return new ProvisioningMqtt(base);
}

function provisioningHost(emulator: RunningEmulator, kind: Transport): string {
  return kind === "http" ? "localhost" : `localhost:${emulator.mqttPort}`;
}

/** Registers a device with a symmetric key (an individual enrollment's, or a key derived from a group's). */
export async function registerWithKey(
  emulator: RunningEmulator,
  kind: Transport,
  registrationId: string,
  key: string,
  payload?: unknown,
): Promise<RegistrationResult> {
  const client = ProvisioningDeviceClient.create(
    provisioningHost(emulator, kind),
    emulator.identity.idScope,
    transport(emulator, kind),
    // Two copies of azure-iot-common make the types differ; the classes are the same.
    new SymmetricKeySecurityClient(registrationId, key) as never,
  );
  if (payload !== undefined) client.setProvisioningPayload(payload as never);
  return (await client.register()) as RegistrationResult;
}

/** Registers a device by its X.509 certificate (PEM chain, leaf first) and key. */
export async function registerWithCertificate(
  emulator: RunningEmulator,
  kind: Transport,
  registrationId: string,
  certPem: string,
  keyPem: string,
): Promise<RegistrationResult> {
  const client = ProvisioningDeviceClient.create(
    provisioningHost(emulator, kind),
    emulator.identity.idScope,
    transport(emulator, kind),
    new X509Security(registrationId, { cert: certPem, key: keyPem }),
  );
  return (await client.register()) as unknown as RegistrationResult;
}
