// Persistence behind an interface: the handlers see this, never SQL. One implementation, SqliteStore.
import type { HubDevice } from "../hub/device";
import type { StoredDocument } from "../model/enrollment";
import type { AttestationType, EnrollmentKind, RegistrationRecord } from "../model/types";

export type { HubDevice };

export interface Page<T> {
  items: T[];
  /** Key to continue after, when more items exist. */
  next?: string;
}

export interface Store {
  getDocument(kind: EnrollmentKind, id: string): StoredDocument | undefined;
  putDocument(kind: EnrollmentKind, doc: StoredDocument): void;
  deleteDocument(kind: EnrollmentKind, id: string): boolean;
  /** Documents in id order, after the given id. */
  listDocuments(kind: EnrollmentKind, after: string | undefined, limit: number): Page<StoredDocument>;
  countDocuments(kind: EnrollmentKind): number;
  countGroups(type: AttestationType): number;
  /** Enabled-or-not groups of one attestation type, for device authentication (at most 100 by quota). */
  groupsOfType(type: AttestationType): StoredDocument[];

  getRegistration(id: string): RegistrationRecord | undefined;
  putRegistration(record: RegistrationRecord): void;
  deleteRegistration(id: string): boolean;
  listRegistrationsOfGroup(groupId: string, after: string | undefined, limit: number): Page<RegistrationRecord>;

  /** The linked hubs' device identities and twins, by hub host name and (case-sensitive) device ID. */
  getHubDevice(hub: string, deviceId: string): HubDevice | undefined;
  putHubDevice(device: HubDevice): void;
  deleteHubDevice(hub: string, deviceId: string): boolean;
  /** A hub's devices in device ID order, at most `limit`. */
  listHubDevices(hub: string, limit: number): HubDevice[];

  /** Runs fn atomically. */
  transaction<T>(fn: () => T): T;
  close(): void;
}
