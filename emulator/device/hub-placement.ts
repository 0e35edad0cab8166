// What a registration does on the IoT hubs: the device identity DPS creates on the assigned hub (with the
// credentials the device proved itself with) and its initial twin, and what reprovisioning does to them: migrate the
// twin to the new hub, reset it to the enrollment's initial twin, or leave the device where it is.
import { thumbprints as certificateThumbprints, parseCertificate } from "../certificates";
import { newDeviceEtag, newGenerationId, never, type DeviceAuthentication, type HubDevice } from "../hub/device";
import { newTwin } from "../hub/twin";
import type {
  EnrollmentGroup,
  IndividualEnrollment,
  InitialTwin,
  RegistrationRecord,
  RegistrationSubstatus,
} from "../model/types";
import { deriveDeviceKey } from "../sas";
import type { Store } from "../store/store";

export type EnrollmentMatch =
  { kind: "individual"; doc: IndividualEnrollment } | { kind: "group"; doc: EnrollmentGroup };

/**
 * How the device will authenticate to its hub, as DPS registers it: symmetric keys (the enrollment's, or a group's
 * keys derived for this device), the thumbprints of an individual enrollment's certificates, or its CA for groups.
 */
export function hubAuthentication(match: EnrollmentMatch, registrationId: string): DeviceAuthentication {
  const attestation = match.doc.attestation;
  if (attestation.type === "x509") {
    if (match.kind === "group") return { type: "certificateAuthority" };
    const certs = attestation.x509?.clientCertificates;
    const sha1 = (c: { certificate?: string; info?: { sha1Thumbprint: string } } | undefined): string | null => {
      if (c?.info?.sha1Thumbprint) return c.info.sha1Thumbprint;
      const parsed = c?.certificate ? parseCertificate(c.certificate) : undefined;
      return parsed ? certificateThumbprints(parsed.raw).sha1 : null;
    };
    return {
      type: "selfSigned",
      x509Thumbprint: { primaryThumbprint: sha1(certs?.primary) ?? "", secondaryThumbprint: sha1(certs?.secondary) },
    };
  }
  const keys = attestation.symmetricKey;
  if (attestation.type === "symmetricKey" && keys?.primaryKey && keys.secondaryKey) {
    return {
      type: "sas",
      symmetricKey:
        match.kind === "group"
          ? {
              primaryKey: deriveDeviceKey(keys.primaryKey, registrationId),
              secondaryKey: deriveDeviceKey(keys.secondaryKey, registrationId),
            }
          : { primaryKey: keys.primaryKey, secondaryKey: keys.secondaryKey },
    };
  }
  // TPM devices cannot register here (README: differences); nothing else reaches this.
  return { type: "none" };
}

export interface Placement {
  registrationId: string;
  deviceId: string;
  /** Host name of the assigned hub. */
  hub: string;
  previous: RegistrationRecord | undefined;
  match: EnrollmentMatch;
  /** The enrollment's initial twin, or the one a custom allocation webhook returned. */
  initialTwin: InitialTwin | undefined;
  now: string;
}

/** Creates, moves or resets the device on its hub per the reprovisioning policy; returns the substatus. */
export function placeDevice(store: Store, placement: Placement): RegistrationSubstatus {
  const { registrationId, deviceId, hub, previous, match, now } = placement;
  const doc = match.doc;
  const fresh = (): HubDevice["twin"] =>
    newTwin({ tags: placement.initialTwin?.tags, desired: placement.initialTwin?.properties?.desired }, now);
  const device = (twin: HubDevice["twin"], earlier?: HubDevice): HubDevice => ({
    hub,
    deviceId,
    registrationId,
    generationId: earlier?.generationId ?? newGenerationId(),
    etag: newDeviceEtag(),
    status: earlier?.status ?? "enabled",
    statusUpdatedTime: earlier?.statusUpdatedTime ?? never,
    authentication: hubAuthentication(match, registrationId),
    iotEdge: doc.capabilities.iotEdge,
    twin,
  });
  if (!previous || previous.status !== "assigned" || !previous.assignedHub) {
    store.putHubDevice(device(fresh()));
    return "initialAssignment";
  }
  if (!doc.reprovisionPolicy.updateHubAssignment) {
    return previous.substatus ?? "initialAssignment";
  }
  const oldHub = previous.assignedHub;
  const oldDeviceId = previous.deviceId ?? deviceId;
  const oldDevice = store.getHubDevice(oldHub, oldDeviceId);
  const migrate = doc.reprovisionPolicy.migrateDeviceData;
  const stays = oldHub === hub && oldDeviceId === deviceId;
  if (!stays) {
    store.deleteHubDevice(oldHub, oldDeviceId);
  }
  // A device deleted from its hub meanwhile has no data to migrate: it starts from the initial twin.
  const twin = migrate && oldDevice ? oldDevice.twin : fresh();
  store.putHubDevice(device(twin, stays ? oldDevice : undefined));
  if (oldHub !== hub && previous.hubHistory.includes(hub)) {
    return "reprovisionedToInitialAssignment";
  }
  return migrate ? "deviceDataMigrated" : "deviceDataReset";
}
