// What npm start prints for the local stack's devices, written out by hand for tests to expect (not made by the
// rendering code they test).

/** An assigned device's block. */
export function assignedBlock(
  title: string,
  hub: string,
  deviceId: string,
  desired: string,
  registration: string,
): string {
  return [
    title,
    "  status              assigned",
    `  assigned hub        ${hub}`,
    `  device ID           ${deviceId}`,
    `  desired properties  ${desired}`,
    `  registration        ${registration}`,
  ].join("\n");
}

/** Each local device's first line. */
export const titles = {
  mydevice: "mydevice (X.509, individual enrollment, HTTPS)",
  edge: "edge-gateway-01 (symmetric key, individual enrollment, MQTT)",
  groupDevice: "group-device-01 (X.509, enrollment group x509-devices, MQTT)",
  symmetricDevice: "symmetric-device-01 (symmetric key, enrollment group symmetric-devices, HTTPS)",
};

export const hub1 = "emulator-hub-1 (127.0.0.2)";
export const hub2 = "emulator-hub-2 (127.0.0.3)";
