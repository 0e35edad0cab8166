// Microsoft's device SDK (azure-iot-provisioning-device with its HTTP and MQTT transports and security clients),
// pointed at a DPS device endpoint. The SDK always uses port 443 for HTTP; an https.Agent that forces the port is its
// supported hook (`http.agent`), and MQTT takes `host:port` directly. The client's requests are otherwise unchanged.
import * as fs from "node:fs";
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

import type { ConnectionInfo } from "../../../emulator/server";
import { PortAgent } from "../port-agent";

export type Transport = "http" | "mqtt";

/** Where devices register: DPS's device API over HTTPS and MQTT, its ID scope, and a CA to trust. */
export interface DeviceEndpoint {
  /** Host name of the device API (the emulator's `localhost`; Azure's `global.azure-devices-provisioning.net`). */
  host: string;
  /** HTTPS port (the SDK's is 443). */
  port: number;
  /** MQTTS port, or undefined when MQTT is off. */
  mqttPort?: number;
  idScope: string;
  /** Extra CA certificate (PEM) besides the default ones. */
  ca?: string;
}

/** The device endpoint of an emulator, from its connection.json. */
export function emulatorDeviceEndpoint(info: ConnectionInfo): DeviceEndpoint {
  const device = new URL(info.deviceEndpoint);
  const mqtt = info.mqttEndpoint ? new URL(info.mqttEndpoint) : undefined;
  return {
    host: device.hostname,
    port: Number(device.port || 443),
    ...(mqtt ? { mqttPort: Number(mqtt.port || 8883) } : {}),
    idScope: info.idScope,
    ca: fs.readFileSync(info.caCertificate, "utf8"),
  };
}

/** A transitive SDK package, resolved as the device transport packages resolve it. */
function transportModule<T>(name: string, from: string): T {
  const fromDir = path.dirname(require.resolve(`${from}/package.json`));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(require.resolve(name, { paths: [fromDir] })) as T;
}

function transport(endpoint: DeviceEndpoint, kind: Transport): ProvisioningHttp | ProvisioningMqtt {
  if (kind === "http") {
    const httpBase = transportModule<typeof HttpBase>("azure-iot-http-base", "azure-iot-provisioning-device-http");
    const base = new httpBase.Http();
    base.setOptions({
      ...(endpoint.ca === undefined ? {} : { ca: [...tls.rootCertificates, endpoint.ca] }),
      ...(endpoint.port === 443 ? {} : { http: { agent: new PortAgent(endpoint.port) } }),
    });
    return new ProvisioningHttp(base as never);
  }
  const mqttBase = transportModule<typeof MqttBaseModule>("azure-iot-mqtt-base", "azure-iot-provisioning-device-mqtt");
  const base = new mqttBase.MqttBase();
  if (endpoint.ca !== undefined) base.setOptions({ ca: endpoint.ca });
  return new ProvisioningMqtt(base);
}

function provisioningHost(endpoint: DeviceEndpoint, kind: Transport): string {
  if (kind === "http") return endpoint.host;
  if (endpoint.mqttPort === undefined) throw new Error(`the device endpoint ${endpoint.host} has no MQTT port`);
  return `${endpoint.host}:${endpoint.mqttPort}`;
}

/** Registers a device with a symmetric key (an individual enrollment's, or a key derived from a group's). */
export async function registerWithKey(
  endpoint: DeviceEndpoint,
  kind: Transport,
  registrationId: string,
  key: string,
  payload?: unknown,
): Promise<RegistrationResult> {
  const client = ProvisioningDeviceClient.create(
    provisioningHost(endpoint, kind),
    endpoint.idScope,
    transport(endpoint, kind),
    // Two copies of azure-iot-common make the types differ; the classes are the same.
    new SymmetricKeySecurityClient(registrationId, key) as never,
  );
  if (payload !== undefined) client.setProvisioningPayload(payload as never);
  return (await client.register()) as RegistrationResult;
}

/** Registers a device by its X.509 certificate (PEM chain, leaf first) and key. */
export async function registerWithCertificate(
  endpoint: DeviceEndpoint,
  kind: Transport,
  registrationId: string,
  certPem: string,
  keyPem: string,
): Promise<RegistrationResult> {
  const client = ProvisioningDeviceClient.create(
    provisioningHost(endpoint, kind),
    endpoint.idScope,
    transport(endpoint, kind),
    new X509Security(registrationId, { cert: certPem, key: keyPem }),
  );
  return (await client.register()) as unknown as RegistrationResult;
}
