// The Pulumi program. Stack configuration (stacks/Pulumi.<stack>.yaml) chooses the DPS; the stack's manifest
// (stacks/<stack>/enrollments.yaml by default) says which enrollments it holds.
import * as fs from "node:fs";
import * as path from "node:path";

import * as pulumi from "@pulumi/pulumi";

import { DpsEnrollments } from "./components/enrollments";

const config = new pulumi.Config();
const stack = pulumi.getStack();
const platform = config.get("platform") ?? "emulator";

/** Linked hub host names: the emulator's from its connection.json, otherwise from config. */
function linkedHubs(): string[] {
  if (platform === "emulator") {
    const dataDir = path.resolve(config.get("emulatorDataDir") ?? ".emulator-data");
    const file = path.join(dataDir, "connection.json");
    if (!fs.existsSync(file)) {
      throw new Error(
        `platform emulator: ${path.relative(process.cwd(), file)} does not exist; start the emulator (npm run emulator) or run npm start`,
      );
    }
    return (JSON.parse(fs.readFileSync(file, "utf8")) as { linkedHubs: string[] }).linkedHubs;
  }
  if (platform === "existing") {
    return config.getObject<string[]>("linkedHubs") ?? [];
  }
  // The seam for the Azure platform component (DPS and hubs provisioned with azure-native).
  throw new Error(`config platform '${platform}' is not supported yet: use emulator or existing`);
}

const manifest = config.get("manifest") ?? path.join("stacks", stack, "enrollments.yaml");
const enrollments = new DpsEnrollments("enrollments", {
  manifest: path.resolve(manifest),
  manifestDisplayName: manifest,
  linkedHubs: linkedHubs(),
});

export { platform };
export const registrationIds = enrollments.registrationIds;
