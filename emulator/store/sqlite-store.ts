// Store on node:sqlite in the data directory. WAL journal: a write is durable once its statement returns, so every
// acknowledged request survives `kill -9` of the emulator (not a power cut; synchronous=NORMAL trades that for speed).
import * as fs from "node:fs";
import * as path from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";

import { documentId, type StoredDocument } from "../model/enrollment";
import type { AttestationType, EnrollmentKind, RegistrationRecord } from "../model/types";
import type { HubDevice, Page, Store } from "./store";

const tables: Record<EnrollmentKind, string> = { enrollment: "enrollments", group: "enrollment_groups" };

interface JsonRow {
  json: string;
  id?: string;
}

export class SqliteStore implements Store {
  private readonly db: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();
  private readonly counts = new Map<string, number>();

  constructor(dataDir: string) {
    fs.mkdirSync(dataDir, { recursive: true });
    this.db = new DatabaseSync(path.join(dataDir, "dps.sqlite"));
    this.db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
      PRAGMA busy_timeout = 5000;
      CREATE TABLE IF NOT EXISTS enrollments (id TEXT PRIMARY KEY, json TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS enrollment_groups (
        id TEXT PRIMARY KEY, attestation_type TEXT NOT NULL, json TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS registrations (id TEXT PRIMARY KEY, group_id TEXT, json TEXT NOT NULL) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS registrations_by_group ON registrations (group_id, id);
      CREATE TABLE IF NOT EXISTS hub_identities (
        hub TEXT NOT NULL, device_id TEXT NOT NULL, json TEXT NOT NULL, PRIMARY KEY (hub, device_id)) WITHOUT ROWID;
      -- Before hub identities had a registry API, a table of bare twins stood in for them: nothing reads it now.
      DROP TABLE IF EXISTS hub_devices;
    `);
    // Counting a million rows per request would be slow: keep the counts in memory, loaded once.
    for (const kind of ["enrollment", "group"] as const) {
      const row = this.db.prepare(`SELECT COUNT(*) AS n FROM ${tables[kind]}`).get() as { n: number };
      this.counts.set(kind, row.n);
    }
  }

  private stmt(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  getDocument(kind: EnrollmentKind, id: string): StoredDocument | undefined {
    const row = this.stmt(`SELECT json FROM ${tables[kind]} WHERE id = ?`).get(id) as JsonRow | undefined;
    return row ? (JSON.parse(row.json) as StoredDocument) : undefined;
  }

  putDocument(kind: EnrollmentKind, doc: StoredDocument): void {
    const id = documentId(doc);
    const json = JSON.stringify(doc);
    const exists = this.stmt(`SELECT 1 AS found FROM ${tables[kind]} WHERE id = ?`).get(id) !== undefined;
    if (kind === "group") {
      this.stmt(
        `INSERT INTO enrollment_groups (id, attestation_type, json) VALUES (?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET attestation_type = excluded.attestation_type, json = excluded.json`,
      ).run(id, doc.attestation.type, json);
    } else {
      this.stmt(
        `INSERT INTO enrollments (id, json) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET json = excluded.json`,
      ).run(id, json);
    }
    if (!exists) {
      this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    }
  }

  deleteDocument(kind: EnrollmentKind, id: string): boolean {
    const result = this.stmt(`DELETE FROM ${tables[kind]} WHERE id = ?`).run(id);
    if (result.changes > 0) {
      this.counts.set(kind, (this.counts.get(kind) ?? 1) - 1);
      return true;
    }
    return false;
  }

  listDocuments(kind: EnrollmentKind, after: string | undefined, limit: number): Page<StoredDocument> {
    const rows = this.stmt(`SELECT id, json FROM ${tables[kind]} WHERE id > ? ORDER BY id LIMIT ?`).all(
      after ?? "",
      limit + 1,
    ) as unknown as JsonRow[];
    return page(rows, limit, (json) => JSON.parse(json) as StoredDocument);
  }

  countDocuments(kind: EnrollmentKind): number {
    return this.counts.get(kind) ?? 0;
  }

  countGroups(type: AttestationType): number {
    const row = this.stmt(`SELECT COUNT(*) AS n FROM enrollment_groups WHERE attestation_type = ?`).get(type) as {
      n: number;
    };
    return row.n;
  }

  groupsOfType(type: AttestationType): StoredDocument[] {
    const rows = this.stmt(`SELECT json FROM enrollment_groups WHERE attestation_type = ? ORDER BY id`).all(
      type,
    ) as unknown as JsonRow[];
    return rows.map((r) => JSON.parse(r.json) as StoredDocument);
  }

  getRegistration(id: string): RegistrationRecord | undefined {
    const row = this.stmt(`SELECT json FROM registrations WHERE id = ?`).get(id) as JsonRow | undefined;
    return row ? (JSON.parse(row.json) as RegistrationRecord) : undefined;
  }

  putRegistration(record: RegistrationRecord): void {
    this.stmt(
      `INSERT INTO registrations (id, group_id, json) VALUES (?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET group_id = excluded.group_id, json = excluded.json`,
    ).run(record.registrationId, record.enrollmentGroupId ?? null, JSON.stringify(record));
  }

  deleteRegistration(id: string): boolean {
    return this.stmt(`DELETE FROM registrations WHERE id = ?`).run(id).changes > 0;
  }

  listRegistrationsOfGroup(groupId: string, after: string | undefined, limit: number): Page<RegistrationRecord> {
    const rows = this.stmt(`SELECT id, json FROM registrations WHERE group_id = ? AND id > ? ORDER BY id LIMIT ?`).all(
      groupId,
      after ?? "",
      limit + 1,
    ) as unknown as JsonRow[];
    return page(rows, limit, (json) => JSON.parse(json) as RegistrationRecord);
  }

  getHubDevice(hub: string, deviceId: string): HubDevice | undefined {
    const row = this.stmt(`SELECT json FROM hub_identities WHERE hub = ? AND device_id = ?`).get(hub, deviceId) as
      JsonRow | undefined;
    return row ? (JSON.parse(row.json) as HubDevice) : undefined;
  }

  putHubDevice(device: HubDevice): void {
    this.stmt(
      `INSERT INTO hub_identities (hub, device_id, json) VALUES (?, ?, ?)
       ON CONFLICT(hub, device_id) DO UPDATE SET json = excluded.json`,
    ).run(device.hub, device.deviceId, JSON.stringify(device));
  }

  deleteHubDevice(hub: string, deviceId: string): boolean {
    return this.stmt(`DELETE FROM hub_identities WHERE hub = ? AND device_id = ?`).run(hub, deviceId).changes > 0;
  }

  listHubDevices(hub: string, limit: number): HubDevice[] {
    const rows = this.stmt(`SELECT json FROM hub_identities WHERE hub = ? ORDER BY device_id LIMIT ?`).all(
      hub,
      limit,
    ) as unknown as JsonRow[];
    return rows.map((r) => JSON.parse(r.json) as HubDevice);
  }

  transaction<T>(fn: () => T): T {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const result = fn();
      this.db.exec("COMMIT");
      return result;
    } catch (err) {
      this.db.exec("ROLLBACK");
      throw err;
    }
  }

  close(): void {
    this.db.close();
  }
}

function page<T>(rows: JsonRow[], limit: number, parse: (json: string) => T): Page<T> {
  const items = rows.slice(0, limit).map((r) => parse(r.json));
  return rows.length > limit ? { items, next: rows[limit - 1].id } : { items };
}
