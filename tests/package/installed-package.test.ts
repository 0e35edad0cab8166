// The provider as any Pulumi program gets it: `npm pack` of dynamic-providers/, installed with npm into a new
// TypeScript program in a temporary directory outside the repository (its own package.json, project name and
// node_modules; the project's exact versions of @pulumi/pulumi, typescript, ts-node and @types/node, so npm finds
// them in its cache), then preview, up, a no-change preview and destroy through the real CLI against the emulator.
// The program is the README's: five lines, config in the fixed `dps-enrollments:` namespace, type-checked by ts-node
// against the package's .d.ts.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";

import { issueCertificate } from "../../emulator/pki";
import { pinnedPulumiCommand, projectRoot, scratchEnv } from "../../scripts/lib/pulumi-cli";
import { startTestEmulator, type TestEmulator } from "../support/emulator";
import { serializedProvider } from "../support/serialized-provider";

const enrollmentType = "pulumi-nodejs:dynamic/dps:IndividualEnrollment";
const packageVersion = (
  JSON.parse(fs.readFileSync(path.join(projectRoot, "dynamic-providers", "package.json"), "utf8")) as {
    version: string;
  }
).version;
const gatewayKey = Buffer.alloc(32, 0x47).toString("base64");
const gatewaySecondaryKey = Buffer.alloc(32, 0x48).toString("base64");

let root: string;
let program: string;
let emulator: TestEmulator;
let stack: Stack;
const output: string[] = [];

function lockedVersion(name: string): string {
  const lock = JSON.parse(fs.readFileSync(path.join(projectRoot, "package-lock.json"), "utf8")) as {
    packages: Record<string, { version?: string }>;
  };
  const version = lock.packages[`node_modules/${name}`]?.version;
  if (!version) throw new Error(`package-lock.json has no ${name}`);
  return version;
}

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "dps-installed-"));
  const tarball = run(
    "npm",
    ["pack", "--silent", "--pack-destination", root],
    path.join(projectRoot, "dynamic-providers"),
  ).trim();
  program = path.join(root, "my-iot-fleet");
  fs.mkdirSync(path.join(program, "certs"), { recursive: true });
  fs.writeFileSync(
    path.join(program, "package.json"),
    JSON.stringify(
      {
        name: "my-iot-fleet",
        private: true,
        main: "index.ts",
        dependencies: {
          "@dps-enrollments/enrollment-provider": `file:${path.join(root, tarball)}`,
          "@pulumi/pulumi": lockedVersion("@pulumi/pulumi"),
        },
        devDependencies: {
          "@types/node": lockedVersion("@types/node"),
          "ts-node": lockedVersion("ts-node"),
          typescript: lockedVersion("typescript"),
        },
      },
      null,
      2,
    ),
  );
  run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], program);
  fs.writeFileSync(
    path.join(program, "Pulumi.yaml"),
    "name: my-iot-fleet\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n",
  );
  fs.writeFileSync(
    path.join(program, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        target: "ES2022",
        module: "commonjs",
        moduleResolution: "node",
        types: ["node"],
      },
      files: ["index.ts"],
    }),
  );
  // The README's two lines of TypeScript (and an output to look at).
  fs.writeFileSync(
    path.join(program, "index.ts"),
    'import { DpsEnrollments } from "@dps-enrollments/enrollment-provider";\n' +
      'const enrollments = new DpsEnrollments("enrollments", { manifest: "enrollments.yaml" });\n' +
      "export const registrationIds = enrollments.registrationIds;\n",
  );
  fs.writeFileSync(
    path.join(program, "certs", "camera-01.pem"),
    issueCertificate({ commonName: "camera-01", clientAuth: true }).certPem,
  );
  fs.writeFileSync(
    path.join(program, "enrollments.yaml"),
    "# yaml-language-server: $schema=node_modules/@dps-enrollments/enrollment-provider/enrollments.schema.json\n" +
      "individualEnrollments:\n" +
      "  - attestation: { x509: { primaryCertificate: certs/camera-01.pem } }\n" +
      "  - registrationId: gateway-01\n" +
      "    attestation:\n" +
      "      symmetricKey: { primaryKey: { config: gatewayKey }, secondaryKey: { config: gatewaySecondaryKey } }\n" +
      "    iotEdge: true\n" +
      "  - registrationId: sensor-01\n" +
      "    attestation: { symmetricKey: {} }\n" +
      "    initialTwin: { tags: { site: lab } }\n",
  );

  fs.mkdirSync(path.join(root, "state"));
  emulator = await startTestEmulator({ requestLog: path.join(root, "requests.log") });
  fs.writeFileSync(path.join(program, "certs", "dps-ca.pem"), emulator.caPem);
  stack = await LocalWorkspace.createOrSelectStack(
    { stackName: "dev", workDir: program },
    {
      pulumiCommand: await pinnedPulumiCommand(),
      // ts-node type-checks the program against the package's declarations, as it does for a user by default.
      envVars: { ...scratchEnv(`file://${path.join(root, "state")}`), PULUMI_NODEJS_TRANSPILE_ONLY: "false" },
    },
  );
  // The provider's settings in its own namespace; the keys the manifest names in the program's.
  await stack.workspace.setAllConfig(stack.name, {
    "dps-enrollments:platform": { value: "existing" },
    "dps-enrollments:connectionString": { value: emulator.connection.connectionString, secret: true },
    "dps-enrollments:endpoint": { value: `https://localhost:${emulator.port}` },
    "dps-enrollments:caCertificate": { value: "certs/dps-ca.pem" },
    gatewayKey: { value: gatewayKey, secret: true },
    gatewaySecondaryKey: { value: gatewaySecondaryKey, secret: true },
  });
}, 600_000);

afterAll(async () => {
  await stack?.workspace.removeStack(stack.name, { force: true }).catch(() => undefined);
  await emulator?.dispose();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

test("npm pack, npm install into a new program, then preview, up, a no-change preview and destroy", async () => {
  const capture = (o: string): void => void output.push(o);
  const preview = await stack.preview({ onOutput: capture });
  expect(preview.changeSummary).toEqual({ create: 5 });

  const up = await stack.up({ onOutput: capture });
  expect(up.summary.resourceChanges).toEqual({ create: 5 });
  expect(up.outputs.registrationIds.value).toEqual(["camera-01", "gateway-01", "sensor-01"]);
  const client = emulator.client();
  const gateway = (await client.getIndividualEnrollment("gateway-01")).responseBody;
  expect([gateway.capabilities?.iotEdge, gateway.attestation.type]).toEqual([true, "symmetricKey"]);
  const keys = (await client.getIndividualEnrollmentAttestationMechanism("gateway-01")).responseBody as unknown as {
    symmetricKey: { primaryKey: string };
  };
  expect(keys.symmetricKey.primaryKey).toBe(gatewayKey);
  // Ownership is recorded in DPS, naming this program's own project and stack; nothing is written beside the program.
  const info = (gateway as unknown as { optionalDeviceInformation: Record<string, { stack: string; hash: string }> })
    .optionalDeviceInformation;
  expect(info["dps-enrollments"].stack).toBe("organization/my-iot-fleet/dev");
  expect(info["dps-enrollments"].hash).toMatch(/^[0-9a-f]{64}$/);
  expect(fs.existsSync(path.join(program, ".dps-enrollments"))).toBe(false);

  const deployment = (await stack.exportStack()).deployment as {
    resources: { type: string; urn: string; inputs: Record<string, unknown> }[];
  };
  const enrollments = deployment.resources.filter((r) => r.type === enrollmentType);
  expect(enrollments.map((r) => r.urn.split("::").pop()).sort()).toEqual(["camera-01", "gateway-01", "sensor-01"]);
  for (const r of enrollments) {
    expect([r.inputs.__provider, r.inputs.providerVersion]).toEqual([serializedProvider, packageVersion]);
  }
  const state = fs.readFileSync(path.join(root, "state", ".pulumi", "stacks", "my-iot-fleet", "dev.json"), "utf8");
  const serviceKey = /SharedAccessKey=([^;]+)/.exec(emulator.connection.connectionString)?.[1] ?? "";

  const before = (await emulator.requests()).length;
  expect((await stack.preview({ onOutput: capture })).changeSummary).toEqual({ same: 5 });
  // A no-change preview is the program and the provider's check and diff: DPS hears nothing.
  expect((await emulator.requests()).slice(before)).toEqual([]);

  const destroy = await stack.destroy({ onOutput: capture });
  expect(destroy.summary.resourceChanges).toEqual({ delete: 5 });
  const query = client.createIndividualEnrollmentQuery({ query: "*" }, 100);
  expect(((await query.next(query.continuationToken)) as unknown as { responseBody: unknown[] }).responseBody).toEqual(
    [],
  );
  for (const secret of [gatewayKey, gatewaySecondaryKey, serviceKey]) {
    expect(output.join("")).not.toContain(secret);
    expect(state).not.toContain(secret);
  }
});
