// The individual-enrollment quota of 1,000,000: the store is filled directly with SQL (seconds, not hours of PUTs),
// then the emulator refuses the next create with 403 while updates of existing enrollments still work.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DatabaseSync } from "node:sqlite";

import type { IndividualEnrollment } from "azure-iot-provisioning-service/dist/interfaces";

import { SqliteStore } from "../../emulator/store/sqlite-store";
import { rejection, startTestEmulator } from "../support/emulator";

test("the 1,000,001st individual enrollment is refused with 403", async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "dps-quota-"));
  new SqliteStore(dataDir).close(); // creates the schema
  const db = new DatabaseSync(path.join(dataDir, "dps.sqlite"));
  db.exec(`
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 999999)
    INSERT INTO enrollments (id, json) SELECT printf('filler-%07d', i), '{}' FROM n;
  `);
  db.close();
  const emulator = await startTestEmulator({ dataDir });
  try {
    const client = emulator.client();
    const last = {
      registrationId: "the-millionth",
      attestation: { type: "symmetricKey" },
    } as unknown as IndividualEnrollment;
    await client.createOrUpdateIndividualEnrollment(last);
    const over = await rejection(
      client.createOrUpdateIndividualEnrollment({
        registrationId: "one-too-many",
        attestation: { type: "symmetricKey" },
      } as unknown as IndividualEnrollment),
    );
    expect(over.status).toBe(403);
    expect(over.body).toMatchObject({
      errorCode: 403001,
      message: "this service already holds 1000000 individual enrollments, the maximum",
    });
    // Updating one that exists is not a new enrollment.
    const updated = await client.createOrUpdateIndividualEnrollment({
      ...last,
      provisioningStatus: "disabled",
      etag: "*",
    });
    expect(updated.responseBody.provisioningStatus).toBe("disabled");
  } finally {
    await emulator.dispose();
  }
});
