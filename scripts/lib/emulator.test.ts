import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { ensureEmulator } from "./emulator";
import { projectRoot } from "./pulumi-cli";

// `npm start` said nothing while it waited for the emulator, and only "did not start; see <log>" when it failed.
test("an emulator that does not come up is reported with the end of its log", async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "dps-start-"));
  const said: string[] = [];
  try {
    await expect(ensureEmulator(dataDir, (line) => void said.push(line), { args: ["--port", "nope"] })).rejects.toThrow(
      `the DPS emulator exited with code 1. The end of ${path.relative(projectRoot, path.join(dataDir, "emulator.log"))}:\n` +
        '  | emulator: --port "nope": expected a whole number from 0 to 65535',
    );
    expect(said[0]).toMatch(/^starting the DPS emulator \(pid \d+, log .*emulator\.log\); waiting for it to answer$/);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
