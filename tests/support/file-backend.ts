// The file backend after a CLI was SIGKILLed. Pulumi writes each state file atomically (a temporary file renamed
// into place), but its metadata sidecar `<file>.attrs` (gocloud fileblob's setAttrs: os.Create, then encode) in
// place: a kill in between leaves it empty, and every command on the stack then fails with `failed to load
// checkpoint: EOF`. The sidecar only holds the content type and an MD5 the reader does not check; without it the
// file is read as it is. The README's recovery says to delete an empty one; this is that step.
import * as fs from "node:fs";
import * as path from "node:path";

/** Deletes every empty `.attrs` sidecar under the backend directory; returns their paths relative to it. */
export function removeTornSidecars(backendDir: string): string[] {
  const removed: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith(".attrs") && fs.statSync(file).size === 0) {
        fs.rmSync(file);
        removed.push(path.relative(backendDir, file));
      }
    }
  };
  walk(backendDir);
  return removed;
}
