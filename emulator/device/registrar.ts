// Device registration, shared by the HTTP and MQTT device APIs: who the device is (symmetric-key SAS or X.509 client
// certificate, individual enrollment first, then groups), which hub it gets, what reprovisioning does to its twin,
// and the registration record the service API then shows.
import { randomUUID, type X509Certificate } from "node:crypto";

import { chainsTo, commonName, parseCertificate, thumbprints } from "../certificates";
import { DpsError, formatTimestamp } from "../errors";
import type { Services } from "../handlers/services";
import { present, validateId } from "../model/enrollment";
import type {
  DeviceRegistrationState,
  EnrollmentGroup,
  IndividualEnrollment,
  RegistrationRecord,
  RegistrationStatus,
} from "../model/types";
import { decodedResource, deriveDeviceKey, parseSasToken, resourceCovers, signatureMatches } from "../sas";
import { allocate, candidateHubs, effectivePolicy } from "./allocation";
import { placeDevice } from "./hub-placement";
import { callWebhook, type AllocationResponse } from "./webhook";

export interface DeviceCredentials {
  idScope: string;
  registrationId: string;
  /** `SharedAccessSignature …` (HTTP Authorization header or MQTT password). */
  sas?: string;
  /** TLS client certificate chain, leaf first. */
  peerCertificates: X509Certificate[];
}

/** Who a device is: its individual enrollment, its group, or nobody (it then ends `failed` with 404201). */
export type DeviceMatch =
  { kind: "individual"; doc: IndividualEnrollment } | { kind: "group"; doc: EnrollmentGroup } | { kind: "unknown" };

export interface RegistrationOperation {
  operationId: string;
  status: RegistrationStatus;
  registrationState?: DeviceRegistrationState & Record<string, unknown>;
}

const unknownDevice = "the device has no enrollment: register it in an individual enrollment or an enrollment group";

function fail(message: string): never {
  throw new DpsError("Unauthorized", message);
}

export class Registrar {
  /** Finished operations by id; kept in memory (a restart forgets them, devices then register again). */
  private readonly operations = new Map<string, { registrationId: string; result: RegistrationOperation }>();

  constructor(private readonly services: Services) {}

  authenticate(credentials: DeviceCredentials): DeviceMatch {
    const { store, identity } = this.services;
    if (credentials.idScope.toLowerCase() !== identity.idScope.toLowerCase()) {
      fail(`ID scope '${credentials.idScope}' is not this provisioning service's`);
    }
    const registrationId = validateId("registrationId", credentials.registrationId);
    const individual = store.getDocument("enrollment", registrationId) as IndividualEnrollment | undefined;

    if (credentials.sas !== undefined) {
      const token = parseSasToken(credentials.sas);
      if (!token || token.skn !== "registration") {
        fail("the device SharedAccessSignature must have sr, sig, se and skn=registration");
      }
      if (token.se * 1000 <= Date.now()) {
        fail(`the device SharedAccessSignature expired at ${new Date(token.se * 1000).toISOString()}`);
      }
      const resource = decodedResource(token);
      if (
        !resource ||
        !resourceCovers(resource, `${credentials.idScope}/registrations/${credentials.registrationId}`)
      ) {
        fail(
          `the device SharedAccessSignature resource '${token.sr}' is not ${credentials.idScope}/registrations/${registrationId}`,
        );
      }
      if (individual) {
        const keys = individual.attestation.symmetricKey;
        if (individual.attestation.type !== "symmetricKey" || !keys) {
          fail(`enrollment '${registrationId}' uses ${individual.attestation.type} attestation, not a symmetric key`);
        }
        if (![keys.primaryKey, keys.secondaryKey].some((k) => k !== undefined && signatureMatches(token, k))) {
          fail(`the device SharedAccessSignature was not signed with a key of enrollment '${registrationId}'`);
        }
        return { kind: "individual", doc: individual };
      }
      for (const group of store.groupsOfType("symmetricKey") as EnrollmentGroup[]) {
        const keys = group.attestation.symmetricKey ?? {};
        const derived = [keys.primaryKey, keys.secondaryKey]
          .filter((k): k is string => k !== undefined)
          .map((k) => deriveDeviceKey(k, credentials.registrationId));
        if (derived.some((k) => signatureMatches(token, k))) {
          return { kind: "group", doc: group };
        }
      }
      return { kind: "unknown" };
    }

    const leaf = credentials.peerCertificates[0];
    if (!leaf) {
      fail("the device sent neither a SharedAccessSignature nor a TLS client certificate");
    }
    const cn = commonName(leaf);
    if (cn?.toLowerCase() !== registrationId) {
      fail(`the registration ID '${registrationId}' must equal the client certificate's CN '${cn ?? ""}'`);
    }
    if (individual) {
      const certs = individual.attestation.x509?.clientCertificates;
      if (individual.attestation.type !== "x509" || !certs) {
        fail(`enrollment '${registrationId}' uses ${individual.attestation.type} attestation, not X.509`);
      }
      const sha1 = thumbprints(leaf.raw).sha1;
      if (![certs.primary, certs.secondary].some((c) => c?.info?.sha1Thumbprint === sha1)) {
        fail(`the client certificate is not the primary or secondary certificate of enrollment '${registrationId}'`);
      }
      return { kind: "individual", doc: individual };
    }
    for (const group of store.groupsOfType("x509") as EnrollmentGroup[]) {
      const signing = group.attestation.x509?.signingCertificates;
      for (const entry of [signing?.primary, signing?.secondary]) {
        const anchor = entry?.certificate ? parseCertificate(entry.certificate) : undefined;
        if (anchor && chainsTo(credentials.peerCertificates, anchor)) {
          return { kind: "group", doc: group };
        }
      }
    }
    return { kind: "unknown" };
  }

  /** Registers an authenticated device and returns the finished operation. */
  async register(credentials: DeviceCredentials, match: DeviceMatch, payload: unknown): Promise<RegistrationOperation> {
    const registrationId = validateId("registrationId", credentials.registrationId);
    const operationId = `5.${randomUUID().replace(/-/g, "").slice(0, 16)}.${randomUUID()}`;
    const result = await this.assign(registrationId, match, payload);
    const operation: RegistrationOperation = { operationId, status: result.status, registrationState: result };
    this.operations.set(operationId, { registrationId, result: operation });
    if (this.operations.size > 100_000) {
      const oldest = this.operations.keys().next().value;
      if (oldest !== undefined) this.operations.delete(oldest);
    }
    return operation;
  }

  operation(registrationId: string, operationId: string): RegistrationOperation {
    const found = this.operations.get(operationId);
    if (!found || found.registrationId !== registrationId.toLowerCase()) {
      throw new DpsError("OperationNotFound", `operation '${operationId}' was not found for '${registrationId}'`);
    }
    return found.result;
  }

  /** Status lookup: the device's current registration result. */
  status(registrationId: string): DeviceRegistrationState & Record<string, unknown> {
    const record = this.services.store.getRegistration(registrationId.toLowerCase());
    if (!record) {
      throw new DpsError("RegistrationNotFound", `no registration state for '${registrationId}'`);
    }
    return deviceView(record);
  }

  private async assign(
    registrationId: string,
    match: DeviceMatch,
    payload: unknown,
  ): Promise<DeviceRegistrationState & Record<string, unknown>> {
    const now = formatTimestamp(new Date());
    if (match.kind === "unknown") {
      return {
        registrationId,
        createdDateTimeUtc: now,
        status: "failed",
        errorCode: 404201,
        errorMessage: unknownDevice,
        lastUpdatedDateTimeUtc: now,
        etag: registrationEtag(),
      };
    }
    const { store, config } = this.services;
    const doc = match.doc;
    const previous = store.getRegistration(registrationId);
    const base: RegistrationRecord = {
      registrationId,
      createdDateTimeUtc: previous?.createdDateTimeUtc ?? now,
      status: "assigning",
      lastUpdatedDateTimeUtc: now,
      etag: registrationEtag(),
      attestationType: doc.attestation.type,
      hubHistory: previous?.hubHistory ?? [],
    };
    if (match.kind === "group") base.enrollmentGroupId = match.doc.enrollmentGroupId;

    if (doc.provisioningStatus === "disabled") {
      const record: RegistrationRecord = {
        ...base,
        status: "disabled",
        errorCode: 401001,
        errorMessage: `the ${match.kind === "group" ? "enrollment group" : "enrollment"} is disabled`,
      };
      store.putRegistration(record);
      return deviceView(record);
    }

    const deviceId = match.kind === "individual" && match.doc.deviceId ? match.doc.deviceId : registrationId;
    const previousHub = previous?.status === "assigned" ? previous.assignedHub : undefined;
    let hub: string | undefined;
    let custom: AllocationResponse | undefined;
    if (previousHub && !doc.reprovisionPolicy.updateHubAssignment) {
      hub = previousHub;
    } else if (effectivePolicy(doc) === "custom" && doc.customAllocationDefinition) {
      try {
        custom = await callWebhook(doc.customAllocationDefinition.webhookUrl, {
          [match.kind === "group" ? "enrollmentGroup" : "individualEnrollment"]: present(doc, false),
          deviceRuntimeContext: {
            registrationId,
            ...(previousHub ? { currentIotHubHostName: previousHub, currentDeviceId: deviceId } : {}),
            ...(doc.attestation.type === "x509" ? { x509: {} } : { symmetricKey: {} }),
            ...(payload === undefined ? {} : { payload }),
          },
          linkedHubs: candidateHubs(doc, config.linkedHubs).map((h) => h.hostName),
        });
        hub = config.linkedHubs.find(
          (h) => h.hostName.toLowerCase() === custom?.iotHubHostName.toLowerCase(),
        )?.hostName;
        if (!hub) {
          return this.failed(
            base,
            400005,
            `the custom allocation webhook chose '${custom.iotHubHostName}', which is not a linked hub`,
          );
        }
      } catch (err) {
        return this.failed(base, 500002, `custom allocation failed: ${(err as Error).message}`);
      }
    } else {
      const allocation = allocate(registrationId, doc, config.linkedHubs);
      if ("problem" in allocation) {
        return this.failed(base, 400005, allocation.problem);
      }
      hub = allocation.hub.hostName;
    }

    const substatus = placeDevice(store, {
      registrationId,
      deviceId,
      hub,
      previous,
      match,
      initialTwin: custom?.initialTwin ?? doc.initialTwin,
      now,
    });
    const record: RegistrationRecord = {
      ...base,
      status: "assigned",
      substatus,
      assignedHub: hub,
      deviceId,
      hubHistory: base.hubHistory.includes(hub) ? base.hubHistory : [...base.hubHistory, hub],
    };
    if (custom?.payload !== undefined) record.payload = custom.payload;
    store.putRegistration(record);
    return deviceView(record);
  }

  private failed(
    base: RegistrationRecord,
    errorCode: number,
    errorMessage: string,
  ): DeviceRegistrationState & Record<string, unknown> {
    const record: RegistrationRecord = { ...base, status: "failed", errorCode, errorMessage };
    this.services.store.putRegistration(record);
    return deviceView(record);
  }
}

/** Registration-state etags are base64 of the quoted form, as DPS sends them. */
function registrationEtag(): string {
  return Buffer.from(`"${randomUUID()}"`).toString("base64");
}

/** The device-API view of a record (DeviceRegistrationResult). */
export function deviceView(record: RegistrationRecord): DeviceRegistrationState & Record<string, unknown> {
  const { enrollmentGroupId, attestationType, hubHistory: _history, ...state } = record;
  const view: DeviceRegistrationState & Record<string, unknown> = { ...state };
  if (enrollmentGroupId !== undefined) {
    view[attestationType === "x509" ? "x509" : "symmetricKey"] = { enrollmentGroupId };
  }
  return view;
}
