// `npm run emulator -- [flags]`: runs the local DPS emulator until interrupted.
import { FlagError } from "../scripts/lib/flags";
import { parseEmulatorArgs, usage } from "./config";
import { startEmulator } from "./server";

async function main(): Promise<void> {
  const commandLine = parseEmulatorArgs(process.argv.slice(2));
  if (commandLine.help) {
    console.log(usage);
    return;
  }
  const config = commandLine.config;
  const emulator = await startEmulator(config);
  const c = emulator.connection;
  console.log(`DPS emulator listening on ${config.host}:${emulator.port} (service and device APIs, HTTPS)`);
  if (c.mqttEndpoint) console.log(`  MQTT device API:  ${c.mqttEndpoint}`);
  console.log(`  ID scope:         ${c.idScope}`);
  for (const hub of c.hubs) {
    console.log(`  linked hub:       ${hub.name} at ${hub.endpoint} (registry and twin API)`);
  }
  console.log(`  CA certificate:   ${c.caCertificate}`);
  console.log(`  connection info:  ${config.dataDir}/connection.json`);
  if (config.entra) {
    const roles = config.entra.roleAssignments.map((a) => `${a.principalId}:${a.role}`).join(", ") || "none";
    console.log(`  Entra ID tokens:  issuer ${config.entra.issuer}, role assignments ${roles}`);
  }
  for (const warning of emulator.warnings) {
    console.warn(`  warning: ${warning}`);
  }
  const stop = (): void => {
    void emulator.close().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((err: unknown) => {
  console.error(`emulator: ${err instanceof Error ? err.message : String(err)}`);
  if (err instanceof FlagError) console.error("npm run emulator -- --help lists every flag");
  process.exit(1);
});
