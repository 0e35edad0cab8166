// The create journal: before each create's PUT, the provider notes the registration ID and a hash of what it is
// about to send. If the CLI dies after DPS created the enrollment but before the state recorded it, the next
// `up` finds the enrollment (409) and this note, and adopts it only when DPS holds exactly what was sent: the
// stack's own interrupted create is completed, nobody else's enrollment is taken over.
//
// The file is an append-only log of JSON lines. Creates run in parallel, so notes are group-committed: every note
// queued while one write + fdatasync is in flight goes out in the next single write. (The first version rewrote and
// fsynced the whole file per create, synchronously: quadratic, and it stalled the provider's event loop.)
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

import { canonical } from "./diff";

/** One line of the log: a noted create, or (`hash` absent) a forgotten one. */
interface JournalLine {
  id: string;
  hash?: string;
  time: string;
}

/** Entries older than this are forgotten: an interrupted `up` is rerun in minutes, not weeks. */
const maxAgeMs = 7 * 24 * 3600 * 1000;

/** Rewrite the log on load when it holds this many more lines than live entries. */
const compactSlack = 1000;

interface Pending {
  line: string;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class CreateJournal {
  private live?: Map<string, JournalLine>;
  private queue: Pending[] = [];
  private writing = false;

  constructor(
    private readonly file: string,
    private readonly now: () => number = Date.now,
  ) {}

  static hash(document: unknown): string {
    return createHash("sha256").update(canonical(document)).digest("hex");
  }

  /** Reads the log: the live notes by registration ID, and how many lines it has. */
  private read(): { live: Map<string, JournalLine>; lines: number } {
    let text: string;
    try {
      text = fs.readFileSync(this.file, "utf8");
    } catch {
      return { live: new Map(), lines: 0 };
    }
    const live = new Map<string, JournalLine>();
    const lines = text.split("\n").filter((l) => l.trim() !== "");
    for (const raw of lines) {
      let line: JournalLine;
      try {
        line = JSON.parse(raw) as JournalLine;
      } catch {
        continue; // a torn last line from a crash mid-write: that note never completed
      }
      if (typeof line.id !== "string") continue;
      if (line.hash && this.now() - Date.parse(line.time) < maxAgeMs) live.set(line.id, line);
      else live.delete(line.id);
    }
    return { live, lines: lines.length };
  }

  private loaded(): Map<string, JournalLine> {
    if (!this.live) {
      const { live, lines } = this.read();
      if (lines > live.size + compactSlack) {
        const tmp = `${this.file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, [...live.values()].map((l) => `${JSON.stringify(l)}\n`).join(""), { mode: 0o600 });
        fs.renameSync(tmp, this.file);
      }
      this.live = live;
    }
    return this.live;
  }

  private append(line: JournalLine): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ line: `${JSON.stringify(line)}\n`, resolve, reject });
      if (!this.writing) void this.flush();
    });
  }

  /** Writes everything queued in one write + fdatasync, until the queue stays empty. */
  private async flush(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        try {
          await fs.promises.mkdir(path.dirname(this.file), { recursive: true });
          const handle = await fs.promises.open(this.file, "a", 0o600);
          try {
            await handle.write(batch.map((p) => p.line).join(""));
            await handle.datasync();
          } finally {
            await handle.close();
          }
          for (const p of batch) p.resolve();
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  /** Notes a create about to be sent; durable when the promise resolves. */
  record(registrationId: string, hash: string): Promise<void> {
    const line = { id: registrationId, hash, time: new Date(this.now()).toISOString() };
    this.loaded().set(registrationId, line);
    return this.append(line);
  }

  /** Whether a create of exactly this content was noted, by this process or an earlier one (read afresh). */
  has(registrationId: string, hash: string): boolean {
    return this.read().live.get(registrationId)?.hash === hash;
  }

  /** Drops a note (after a delete). */
  forget(registrationId: string): Promise<void> {
    const live = this.loaded();
    if (!live.has(registrationId)) return Promise.resolve();
    live.delete(registrationId);
    return this.append({ id: registrationId, time: new Date(this.now()).toISOString() });
  }
}
