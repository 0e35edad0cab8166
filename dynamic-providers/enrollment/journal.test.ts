import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { CreateJournal } from "./journal";

describe("CreateJournal", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "dps-journal-"));
    file = path.join(dir, ".dps-enrollments", "create-journal.jsonl");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const lines = (): unknown[] =>
    fs
      .readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as unknown);

  test("a recorded create is durable and matches only the same content, also for a later process", async () => {
    const journal = new CreateJournal(file, () => Date.parse("2026-11-28T10:00:00Z"));
    await journal.record("device-1", "aaa");
    expect(lines()).toEqual([{ id: "device-1", hash: "aaa", time: "2026-11-28T10:00:00.000Z" }]);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const later = new CreateJournal(file);
    expect(later.has("device-1", "aaa")).toBe(true);
    expect(later.has("device-1", "bbb")).toBe(false);
    expect(later.has("device-2", "aaa")).toBe(false);
  });

  test("parallel records are group-committed: every note lands once, in fewer writes than notes", async () => {
    const journal = new CreateJournal(file);
    const writes = jest.spyOn(fs.promises, "open");
    try {
      await Promise.all(Array.from({ length: 50 }, (_, i) => journal.record(`device-${i}`, `hash-${i}`)));
      expect(lines()).toHaveLength(50);
      expect(new Set(lines().map((l) => (l as { id: string }).id)).size).toBe(50);
      // The first note opens the file alone; the 49 queued behind it share the next write.
      expect(writes).toHaveBeenCalledTimes(2);
    } finally {
      writes.mockRestore();
    }
  });

  test("forget drops a note, for this process and the next", async () => {
    const journal = new CreateJournal(file);
    await journal.record("device-1", "aaa");
    await journal.record("device-2", "bbb");
    await journal.forget("device-1");
    await journal.forget("never-recorded");
    expect(lines()).toHaveLength(3);
    expect(journal.has("device-1", "aaa")).toBe(false);
    expect(new CreateJournal(file).has("device-2", "bbb")).toBe(true);
  });

  test("notes older than seven days are ignored", async () => {
    await new CreateJournal(file, () => Date.parse("2026-11-01T00:00:00Z")).record("device-1", "aaa");
    expect(new CreateJournal(file, () => Date.parse("2026-11-07T23:00:00Z")).has("device-1", "aaa")).toBe(true);
    expect(new CreateJournal(file, () => Date.parse("2026-11-08T01:00:00Z")).has("device-1", "aaa")).toBe(false);
  });

  test("a torn last line (crash mid-write) is skipped, the notes before it stand", async () => {
    await new CreateJournal(file).record("device-1", "aaa");
    fs.appendFileSync(file, '{"id":"device-2","ha');
    expect(new CreateJournal(file).has("device-1", "aaa")).toBe(true);
    expect(new CreateJournal(file).has("device-2", "aaa")).toBe(false);
  });

  test("a log with many dead lines is compacted when loaded", async () => {
    const journal = new CreateJournal(file);
    for (let i = 0; i < 1100; i++) {
      await journal.record(`device-${i}`, "h");
      await journal.forget(`device-${i}`);
    }
    await journal.record("kept", "k");
    expect(lines()).toHaveLength(2201);
    const next = new CreateJournal(file);
    await next.record("other", "o");
    expect(lines()).toEqual([
      { id: "kept", hash: "k", time: expect.any(String) as unknown },
      { id: "other", hash: "o", time: expect.any(String) as unknown },
    ]);
  });
});
