// The emulator's own counters (`GET /_emulator/stats`, not part of DPS's API): answers by operation and status.
import * as fs from "node:fs";
import * as https from "node:https";

import type { EmulatorStats } from "../../emulator/middleware";

/** Reads the counters of the emulator that `connection` (its connection.json) describes. */
export function emulatorStats(connection: { endpoint: string; caCertificate: string }): Promise<EmulatorStats> {
  const ca = fs.readFileSync(connection.caCertificate, "utf8");
  return new Promise((resolve, reject) => {
    https
      .get(new URL("/_emulator/stats", connection.endpoint), { ca, servername: "localhost" }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => {
          if (res.statusCode === 200) resolve(JSON.parse(body) as EmulatorStats);
          else reject(new Error(`GET /_emulator/stats: ${res.statusCode} ${body}`));
        });
      })
      .on("error", reject);
  });
}

/** Operations the emulator performed: every answer but 429 (throttled), of every operation. */
export function performedOperations(stats: EmulatorStats): number {
  return Object.values(stats.operations)
    .flatMap((byStatus) => Object.entries(byStatus))
    .filter(([status]) => status !== "429")
    .reduce((sum, [, count]) => sum + count, 0);
}
