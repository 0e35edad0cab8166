// The manifests of the review's golden scenarios: a baseline that `prod` is deployed with, and its variants, each
// one kind of change. Fixed names, keys and public test certificates, so every preview renders the same text.

/** A TPM endorsement key (public). */
export const endorsementKey =
  "AToAAQALAAMAsgAgg3GXZ0SEs/gakMyNRqXXJP1S124GUgtk8qHaGzMUaaoABgCAAEMAEAgAAAAAAAEAxsj2gUScTk1UjuioeTlfGYZrrimExB+bScH75adUMRIi2UOMxG1kw4y+9RW/IVoMl4e620VxZad0ARX2gUqVjYO7KPVt3dyKhZS3dkcvfBisBhP1XH9B33VqHG9SHnbnQXdBUaCgKAfxome8UmBKfe+naTsE5fkvjb/do3/dD6l4sGBwFCnKRdln4XpM03zLpoHFao8zOwt8l/uP3qUIxmCYv9A7m69Ms+5/pCkTu/rK4mRDsfhZ0QLfbzVI6zQFOKF/rwsfBtFeWlWtcuJMKlXdD8TXWElTzgh7JS4qhFzreL0c1mI0GCj+Aws0usZh7dLIVPnlgZcBhgy1SSDQMQ==";

/** The symmetric keys of edge-gateway-01, given as secret config (test values, never real). */
export const edgeKeys = {
  primary: Buffer.alloc(32, 0x11).toString("base64"),
  secondary: Buffer.alloc(32, 0x22).toString("base64"),
  rotatedPrimary: Buffer.alloc(32, 0x33).toString("base64"),
};

interface Entries {
  camera?: string;
  gateway?: string;
  sensor?: string;
  tpm?: string;
  extra?: string;
}

const camera = (certificate: string, devicetype: string, interval: number, tags = "{ site: lab }"): string => `
  - attestation: { x509: { primaryCertificate: certs/${certificate} } }
    allocationPolicy: hashed
    initialTwin:
      tags: ${tags}
      properties: { desired: { devicetype: ${devicetype}, telemetryInterval: ${interval} } }`;

const gateway = (hubs: string): string => `
  - registrationId: edge-gateway-01
    attestation:
      symmetricKey: { primaryKey: { config: edgePrimaryKey }, secondaryKey: { config: edgeSecondaryKey } }
    deviceId: edge-gateway-01-device
    iotEdge: true
    allocationPolicy: static
    iotHubs: [${hubs}]`;

const sensor = (enabled: boolean): string => `
  - registrationId: sensor-0001
    attestation: { symmetricKey: {} }
    enabled: ${enabled}`;

const tpm = `
  - registrationId: tpm-device-01
    attestation: { tpm: { endorsementKey: "${endorsementKey}" } }
    deviceId: tpm-device-01`;

const tpmAsSymmetricKey = `
  - registrationId: tpm-device-01
    attestation: { symmetricKey: {} }
    deviceId: tpm-device-01`;

function manifest(entries: Entries): string {
  return `defaults:\n  reprovisionPolicy: reprovisionAndMigrateData\nindividualEnrollments:${Object.values(entries).join("")}\n`;
}

const baselineEntries: Entries = {
  camera: camera("cam-01.pem", "waterflow", 30),
  gateway: gateway("emulator-hub-2"),
  sensor: sensor(false),
  tpm,
};

export const manifests = {
  baseline: manifest(baselineEntries),
  /** The twin by nested path, a certificate rotation, a flag and a hub list. */
  update: manifest({
    ...baselineEntries,
    camera: camera("cam-01-rotated.pem", "waterflow-v2", 60, "{ site: lab, floor: '2' }"),
    sensor: sensor(true),
  }),
  /** The attestation type (deleted first); the registration ID change is the renamed resource's config. */
  replace: manifest({ ...baselineEntries, tpm: tpmAsSymmetricKey }),
  delete: manifest({ ...baselineEntries, sensor: undefined }),
  /** Everything at once, for the README's example. */
  mixed: manifest({
    ...baselineEntries,
    camera: camera("cam-01-rotated.pem", "waterflow-v2", 30),
    sensor: undefined,
    tpm: tpmAsSymmetricKey,
    extra: `
  - registrationId: sensor-0002
    attestation: { symmetricKey: {} }
    iotHubs: [emulator-hub-1]`,
  }),
  /** An entry naming a hub that is not linked: the program stops with an error naming file, entry and field. */
  failed: manifest({
    ...baselineEntries,
    gateway: gateway("emulator-hub-9"),
  }),
  /** An expired certificate, which the policy pack refuses in prod. */
  policy: manifest({
    ...baselineEntries,
    extra: `
  - attestation: { x509: { primaryCertificate: certs/expired-01.pem } }`,
  }),
  /** Two deletes and enough creates (TPM keys, twins) that the full report is far over a comment's size. */
  oversize: manifest({
    ...baselineEntries,
    sensor: undefined,
    tpm: undefined,
    extra: Array.from(
      { length: 150 },
      (_, i) => `
  - registrationId: line-${String(i + 1).padStart(3, "0")}
    attestation: { tpm: { endorsementKey: "${endorsementKey}" } }
    initialTwin: { tags: { line: "${i + 1}" }, properties: { desired: { devicetype: bottling, speed: ${100 + i} } } }`,
    ).join(""),
  }),
};
