// The create journal: before each create's PUT, the provider notes the registration ID and a hash of what it is
// about to send. If the CLI dies after DPS created the enrollment but before the state recorded it, the next
// `up` finds the enrollment (409) and this note, and adopts it only when DPS holds exactly what was sent: the
// stack's own interrupted create is completed, nobody else's enrollment is taken over.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

import { canonical } from "./diff";

interface JournalEntry {
  hash: string;
  time: string;
}

/** Entries older than this are forgotten: an interrupted `up` is rerun in minutes, not weeks. */
const maxAgeMs = 7 * 24 * 3600 * 1000;

export class CreateJournal {
  constructor(private readonly file: string) {}

  static hash(document: unknown): string {
    return createHash("sha256").update(canonical(document)).digest("hex");
  }

  private load(): Record<string, JournalEntry> {
    try {
      return JSON.parse(fs.readFileSync(this.file, "utf8")) as Record<string, JournalEntry>;
    } catch {
      return {};
    }
  }

  private save(entries: Record<string, JournalEntry>): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const now = Date.now();
    const kept = Object.fromEntries(Object.entries(entries).filter(([, e]) => now - Date.parse(e.time) < maxAgeMs));
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fd = fs.openSync(tmp, "w", 0o600);
    fs.writeSync(fd, JSON.stringify(kept));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, this.file);
  }

  /** Notes a create about to be sent; durable before it returns. */
  record(registrationId: string, hash: string): void {
    const entries = this.load();
    entries[registrationId] = { hash, time: new Date().toISOString() };
    this.save(entries);
  }

  /** Whether this journal noted a create of exactly this content. */
  has(registrationId: string, hash: string): boolean {
    return this.load()[registrationId]?.hash === hash;
  }

  forget(registrationId: string): void {
    const entries = this.load();
    if (entries[registrationId]) {
      delete entries[registrationId];
      this.save(entries);
    }
  }
}
