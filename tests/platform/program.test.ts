// The program (index.ts) with the committed `dev` and `prod` stack configurations (stacks/Pulumi.<stack>.yaml over
// the defaults Pulumi.yaml declares), under Pulumi mocks that answer like Azure: the exact resources, their types,
// names and inputs, the invokes, the secrets, and what the enrollments receive. Not proven here: that Azure accepts
// these requests (no azure-native plugin, no Azure) — see the README for a preview against a real subscription.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { parse } from "yaml";

import {
  AzureMocks,
  autoname,
  deployerObjectId,
  dpsKey,
  hubKey,
  idScope,
  letPulumiRuntimeSettle,
  secret,
  subscriptionId,
} from "../support/azure-mocks";
import { serializedProvider } from "../support/serialized-provider";

// A program that fails leaves nothing to wait for; fail fast instead of at the project's 5-minute timeout.
jest.setTimeout(60_000);
afterAll(letPulumiRuntimeSettle);

const root = path.resolve(__dirname, "..", "..");
const project = "dps-enrollments";
const enrollmentType = "pulumi-nodejs:dynamic/dps:IndividualEnrollment";
const groupType = "pulumi-nodejs:dynamic/dps:EnrollmentGroup";

function configString(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** A stack's configuration as the CLI hands it to the program: Pulumi.yaml defaults, then the stack file. */
function stackConfig(stack: string): Record<string, string> {
  const declared = (
    parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as {
      config: Record<string, { default?: unknown }>;
    }
  ).config;
  const config: Record<string, string> = {};
  for (const [key, declaration] of Object.entries(declared)) {
    if (declaration.default !== undefined) config[`${project}:${key}`] = configString(declaration.default);
  }
  const stackFile = parse(fs.readFileSync(path.join(root, "stacks", `Pulumi.${stack}.yaml`), "utf8")) as {
    config: Record<string, unknown>;
  };
  for (const [key, value] of Object.entries(stackFile.config)) config[key] = configString(value);
  return config;
}

interface ProgramRun {
  mocks: AzureMocks;
  /** Each registration's dependency URNs (what the engine waits for), by resource name. */
  dependencies: Record<string, string[]>;
  outputs: Record<string, unknown>;
  secretOutputs: string[];
}

/** Runs index.ts as `pulumi up` would for the stack, with mocks, and waits for every registration. */
async function runProgram(stack: string, config: Record<string, string>): Promise<ProgramRun> {
  const mocks = new AzureMocks();
  const run: ProgramRun = { mocks, dependencies: {}, outputs: {}, secretOutputs: [] };
  await jest.isolateModulesAsync(async () => {
    const pulumi = await import("@pulumi/pulumi");
    pulumi.runtime.setAllConfig(config);
    await pulumi.runtime.setMocks(mocks, project, stack, false);
    // The mock monitor sees each RegisterResource request: keep its dependencies.
    type Request = { getName(): string; getDependenciesList(): string[] };
    const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: Request, cb: unknown): unknown };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, cb) => {
      run.dependencies[req.getName()] = req.getDependenciesList();
      return register(req, cb);
    };
    try {
      const program = (await import("../../index")) as unknown as Record<string, unknown>;
      for (const [name, value] of Object.entries(program)) {
        if (!pulumi.Output.isInstance(value)) {
          run.outputs[name] = value;
          continue;
        }
        run.outputs[name] = await new Promise((resolve) => value.apply(resolve));
        if (await pulumi.isSecret(value)) run.secretOutputs.push(name);
      }
    } finally {
      // Also after a failed program: what it registered before failing must not reach the next run's mocks.
      await pulumi.runtime.disconnect();
    }
  });
  return run;
}

function pem(file: string): string {
  return fs.readFileSync(path.join(root, file), "utf8");
}

function hubInputs(hub: string, rg: string, location: string, sku: string, units: number): Record<string, unknown> {
  return { resourceName: hub, resourceGroupName: rg, location, sku: { name: sku, capacity: units } };
}

function hubLink(hub: string, location: string, allocationWeight: number): Record<string, unknown> {
  return {
    connectionString: `HostName=${hub}.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=${hubKey(hub)}`,
    location,
    allocationWeight,
    applyAllocationPolicy: true,
  };
}

/** The enrollment inputs without the serialized provider and the outputs seeded as undefined. */
function enrollments(mocks: AzureMocks): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(mocks.ofType(enrollmentType)).map(([name, inputs]) => {
      const { __provider: provider, ...rest } = inputs;
      expect(provider).toBe(serializedProvider);
      return [name, rest];
    }),
  );
}

/**
 * The registrations as stages: each stage exactly (in any order), the stages in order. Within a stage resources
 * race; a stage starts only when what it depends on is registered (enrollments wait for the whole platform).
 */
function registrationStages(mocks: AzureMocks, expected: string[][]): void {
  const names = mocks.registrations.map((r) => `${r.type}::${r.name}`);
  let start = 0;
  const stages = expected.map((stage) => names.slice(start, (start += stage.length)).sort());
  expect({ stages, rest: names.slice(start) }).toEqual({
    stages: expected.map((stage) => [...stage].sort()),
    rest: [],
  });
}

describe("stack dev", () => {
  let run: ProgramRun;
  const rg = autoname("platform-rg");
  const dps = autoname("platform-dps");
  const dpsHost = `${dps}.azure-devices-provisioning.net`;
  const hubs = ["dpsenr-dev-hub-1.azure-devices.net", "dpsenr-dev-hub-2.azure-devices.net"];

  beforeAll(async () => {
    run = await runProgram("dev", stackConfig("dev"));
  });

  test("creates a resource group, two S1 hubs, the DPS, the CA certificate, then the enrollments", () => {
    registrationStages(run.mocks, [
      ["dps-enrollments:azure:AzureDpsPlatform::platform"],
      ["azure-native:resources:ResourceGroup::platform-rg"],
      [
        "azure-native:iothub:IotHubResource::platform-dpsenr-dev-hub-1",
        "azure-native:iothub:IotHubResource::platform-dpsenr-dev-hub-2",
      ],
      ["azure-native:deviceprovisioningservices:IotDpsResource::platform-dps"],
      ["azure-native:deviceprovisioningservices:DpsCertificate::platform-ca-dev-root-ca"],
      ["dps-enrollments:enrollments:DpsEnrollments::enrollments"],
      [
        `${enrollmentType}::dev-edge-gateway-01`,
        `${enrollmentType}::dev-sensor-0001`,
        `${enrollmentType}::dev-tpm-device-01`,
        `${enrollmentType}::dev-x509-device-01`,
        `${groupType}::dev-x509-fleet`,
      ],
    ]);
    expect(run.mocks.ofType("azure-native:resources:ResourceGroup")).toEqual({
      "platform-rg": { location: "westeurope" },
    });
    expect(run.mocks.ofType("azure-native:iothub:IotHubResource")).toEqual({
      "platform-dpsenr-dev-hub-1": hubInputs("dpsenr-dev-hub-1", rg, "westeurope", "S1", 1),
      "platform-dpsenr-dev-hub-2": hubInputs("dpsenr-dev-hub-2", rg, "westeurope", "S1", 1),
    });
  });

  test("the DPS links both hubs with secret iothubowner connection strings and weight 1", () => {
    expect(run.mocks.ofType("azure-native:deviceprovisioningservices:IotDpsResource")).toEqual({
      "platform-dps": {
        resourceGroupName: rg,
        location: "westeurope",
        sku: { name: "S1", capacity: 1 },
        // The SDK sends the whole of `properties` secret because a connection string inside it is.
        properties: secret({
          allocationPolicy: "Hashed",
          iotHubs: [hubLink("dpsenr-dev-hub-1", "westeurope", 1), hubLink("dpsenr-dev-hub-2", "westeurope", 1)],
        }),
      },
    });
    expect(run.mocks.ofType("azure-native:deviceprovisioningservices:DpsCertificate")).toEqual({
      "platform-ca-dev-root-ca": {
        certificateName: "dev-root-ca",
        provisioningServiceName: dps,
        resourceGroupName: rg,
        properties: { certificate: pem("stacks/dev/certs/root-ca.pem"), isVerified: true },
      },
    });
  });

  test("reads the hubs' keys and the DPS owner key, and no client config (no role assignment)", () => {
    expect(run.mocks.calls).toEqual([
      {
        token: "azure-native:iothub:listIotHubResourceKeys",
        inputs: { resourceGroupName: rg, resourceName: "dpsenr-dev-hub-1" },
      },
      {
        token: "azure-native:iothub:listIotHubResourceKeys",
        inputs: { resourceGroupName: rg, resourceName: "dpsenr-dev-hub-2" },
      },
      {
        token: "azure-native:deviceprovisioningservices:listIotDpsResourceKeys",
        inputs: { provisioningServiceName: dps, resourceGroupName: rg },
      },
    ]);
  });

  test("enrollments get the DPS host, the secret provisioningserviceowner key and hub names resolved", () => {
    const service = {
      serviceHostName: dpsHost,
      serviceAccessKeyName: "provisioningserviceowner",
      serviceAccessKey: secret(dpsKey(dps)),
    };
    const all = enrollments(run.mocks);
    expect(Object.keys(all).sort()).toEqual([
      "dev-edge-gateway-01",
      "dev-sensor-0001",
      "dev-tpm-device-01",
      "dev-x509-device-01",
    ]);
    expect(all["dev-sensor-0001"]).toEqual({
      registrationId: "dev-sensor-0001",
      attestationType: "symmetricKey",
      allocationPolicy: "static",
      iotHubs: ["dpsenr-dev-hub-2.azure-devices.net"],
      reprovisionPolicy: "reprovisionAndMigrateData",
      enabled: true,
      adopt: false,
      ownerStack: "organization/dps-enrollments/dev",
      linkedHubs: hubs,
      ...service,
    });
    expect(all["dev-edge-gateway-01"]).toEqual({
      registrationId: "dev-edge-gateway-01",
      attestationType: "symmetricKey",
      deviceId: "dev-edge-gateway-01",
      iotEdge: true,
      allocationPolicy: "hashed",
      iotHubs: hubs,
      reprovisionPolicy: "reprovisionAndResetData",
      enabled: true,
      adopt: false,
      ownerStack: "organization/dps-enrollments/dev",
      linkedHubs: hubs,
      ...service,
    });
    for (const inputs of Object.values(all)) expect(inputs).toMatchObject(service);
    expect([all["dev-x509-device-01"].attestationType, all["dev-x509-device-01"].primaryCertificate]).toEqual([
      "x509",
      pem("stacks/dev/certs/dev-x509-device-01.pem"),
    ]);
  });

  test("stack outputs: ID scope, host names and linked hubs; only the groups' keys secret", () => {
    expect(run.outputs).toEqual({
      platform: "azure",
      registrationIds: ["dev-x509-device-01", "dev-sensor-0001", "dev-edge-gateway-01", "dev-tpm-device-01"],
      enrollmentGroups: { "dev-x509-fleet": "x509" },
      enrollmentGroupKeys: {},
      idScope,
      serviceHostName: dpsHost,
      deviceHostName: "global.azure-devices-provisioning.net",
      linkedHubHostNames: hubs,
    });
    expect(run.secretOutputs).toEqual(["enrollmentGroupKeys"]);
  });

  test("the group references the CA certificate this stack uploads, and reaches the stack's DPS", () => {
    const { __provider: _provider, ...group } = run.mocks.ofType(groupType)["dev-x509-fleet"];
    expect(group).toMatchObject({
      enrollmentGroupId: "dev-x509-fleet",
      attestationType: "x509",
      primaryCaReference: "dev-root-ca",
      caCertificateNames: ["dev-root-ca"],
      allocationPolicy: "hashed",
      initialTwin: { tags: { environment: "dev" }, properties: { desired: { devicetype: "waterflow" } } },
      linkedHubs: hubs,
      serviceHostName: dpsHost,
    });
  });
});

describe("stack prod", () => {
  let run: ProgramRun;
  const rg = "rg-dps-enrollments-prod";
  const dpsId = `/subscriptions/${subscriptionId}/resourceGroups/${rg}/providers/Microsoft.Devices/provisioningServices/dpsenr-prod-dps`;
  const hubs = [
    "dpsenr-prod-neu-1.azure-devices.net",
    "dpsenr-prod-neu-2.azure-devices.net",
    "dpsenr-prod-weu-1.azure-devices.net",
  ];

  beforeAll(async () => {
    run = await runProgram("prod", stackConfig("prod"));
  });

  test("uses the existing resource group; three S2 hubs in two regions; a named DPS with 2 units", () => {
    registrationStages(run.mocks, [
      ["dps-enrollments:azure:AzureDpsPlatform::platform"],
      [
        "azure-native:iothub:IotHubResource::platform-dpsenr-prod-neu-1",
        "azure-native:iothub:IotHubResource::platform-dpsenr-prod-neu-2",
        "azure-native:iothub:IotHubResource::platform-dpsenr-prod-weu-1",
      ],
      ["azure-native:deviceprovisioningservices:IotDpsResource::platform-dps"],
      [
        "azure-native:deviceprovisioningservices:DpsCertificate::platform-ca-prod-root-ca",
        "azure-native:authorization:RoleAssignment::platform-dps-data-contributor",
      ],
      ["dps-enrollments:enrollments:DpsEnrollments::enrollments"],
      [
        `${enrollmentType}::prod-edge-gateway-01`,
        `${enrollmentType}::prod-sensor-0001`,
        `${enrollmentType}::prod-tpm-device-01`,
        `${enrollmentType}::prod-x509-device-01`,
      ],
    ]);
    expect(run.mocks.ofType("azure-native:iothub:IotHubResource")).toEqual({
      "platform-dpsenr-prod-neu-1": hubInputs("dpsenr-prod-neu-1", rg, "northeurope", "S2", 2),
      "platform-dpsenr-prod-neu-2": hubInputs("dpsenr-prod-neu-2", rg, "northeurope", "S2", 2),
      "platform-dpsenr-prod-weu-1": hubInputs("dpsenr-prod-weu-1", rg, "westeurope", "S2", 1),
    });
    expect(run.mocks.ofType("azure-native:deviceprovisioningservices:IotDpsResource")).toEqual({
      "platform-dps": {
        provisioningServiceName: "dpsenr-prod-dps",
        resourceGroupName: rg,
        location: "northeurope",
        sku: { name: "S1", capacity: 2 },
        properties: secret({
          allocationPolicy: "GeoLatency",
          iotHubs: [
            hubLink("dpsenr-prod-neu-1", "northeurope", 2),
            hubLink("dpsenr-prod-neu-2", "northeurope", 2),
            hubLink("dpsenr-prod-weu-1", "westeurope", 1),
          ],
        }),
      },
    });
  });

  test("every enrollment waits for the DPS and the role assignment (regression: dependsOn on the component)", () => {
    const urn = (type: string, name: string): string =>
      `urn:pulumi:prod::dps-enrollments::dps-enrollments:azure:AzureDpsPlatform$${type}::${name}`;
    for (const name of ["prod-edge-gateway-01", "prod-sensor-0001", "prod-tpm-device-01", "prod-x509-device-01"]) {
      expect(run.dependencies[name]).toEqual(
        expect.arrayContaining([
          urn("azure-native:deviceprovisioningservices:IotDpsResource", "platform-dps"),
          urn("azure-native:authorization:RoleAssignment", "platform-dps-data-contributor"),
        ]),
      );
    }
  });

  test("assigns the deploying principal Device Provisioning Service Data Contributor on the DPS", () => {
    expect(run.mocks.ofType("azure-native:authorization:RoleAssignment")).toEqual({
      "platform-dps-data-contributor": {
        principalId: deployerObjectId,
        principalType: "ServicePrincipal",
        roleDefinitionId: `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/dfce44e4-17b7-4bd1-a6d1-04996ec95633`,
        scope: dpsId,
      },
    });
    expect(run.mocks.calls.map((c) => c.token).sort()).toEqual([
      "azure-native:authorization:getClientConfig",
      "azure-native:iothub:listIotHubResourceKeys",
      "azure-native:iothub:listIotHubResourceKeys",
      "azure-native:iothub:listIotHubResourceKeys",
      "azure-native:resources:getResourceGroup",
    ]);
    expect(run.mocks.calls.find((c) => c.token === "azure-native:resources:getResourceGroup")?.inputs).toEqual({
      resourceGroupName: rg,
    });
  });

  test("enrollments use Microsoft Entra ID: the DPS host and no key", () => {
    const all = enrollments(run.mocks);
    expect(all["prod-edge-gateway-01"]).toEqual({
      registrationId: "prod-edge-gateway-01",
      attestationType: "symmetricKey",
      deviceId: "prod-edge-gateway-01",
      iotEdge: true,
      allocationPolicy: "static",
      iotHubs: ["dpsenr-prod-weu-1.azure-devices.net"],
      reprovisionPolicy: "never",
      enabled: true,
      adopt: false,
      ownerStack: "organization/dps-enrollments/prod",
      linkedHubs: hubs,
      serviceHostName: "dpsenr-prod-dps.azure-devices-provisioning.net",
    });
    expect(all["prod-sensor-0001"].iotHubs).toEqual(hubs.slice(0, 2));
    expect(all["prod-sensor-0001"].allocationPolicy).toEqual("geoLatency");
  });

  test("stack outputs", () => {
    expect(run.outputs).toEqual({
      platform: "azure",
      registrationIds: ["prod-x509-device-01", "prod-sensor-0001", "prod-edge-gateway-01", "prod-tpm-device-01"],
      idScope,
      enrollmentGroups: {},
      enrollmentGroupKeys: {},
      serviceHostName: "dpsenr-prod-dps.azure-devices-provisioning.net",
      deviceHostName: "global.azure-devices-provisioning.net",
      linkedHubHostNames: hubs,
    });
    expect(run.secretOutputs).toEqual(["enrollmentGroupKeys"]);
  });
});

describe("errors at preview", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "dps-platform-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("a manifest naming a hub the stack does not have", async () => {
    const manifest = path.join(dir, "enrollments.yaml");
    fs.writeFileSync(
      manifest,
      "individualEnrollments:\n  - registrationId: d1\n    attestation: { symmetricKey: {} }\n    iotHubs: [dpsenr-dev-hub-3]\n",
    );
    await expect(runProgram("dev", { ...stackConfig("dev"), [`${project}:manifest`]: manifest })).rejects.toThrow(
      `the enrollment manifest has 1 problem(s):\n  ${manifest}:4:15: individualEnrollments[0] (d1): iotHubs[0]: unknown hub 'dpsenr-dev-hub-3' (this stack's hubs: dpsenr-dev-hub-1, dpsenr-dev-hub-2)`,
    );
  });

  test("configuration problems, each naming its key", async () => {
    const config = {
      ...stackConfig("dev"),
      [`${project}:location`]: "",
      [`${project}:iotHubs`]: JSON.stringify([{ name: "hub_1", sku: "S9" }]),
    };
    await expect(runProgram("dev", config)).rejects.toThrow(
      "the stack configuration has 4 problem(s):\n" +
        "  config location: required when platform is azure (an Azure region, e.g. westeurope)\n" +
        "  config iotHubs[0].name: must be 3 to 50 letters, digits and hyphens, not only digits, not starting or ending with a hyphen\n" +
        "  config iotHubs[0].location: must be an Azure region, e.g. westeurope\n" +
        '  config iotHubs[0].sku: "S9" is not one of F1, S1, S2, S3, B1, B2, B3',
    );
  });

  test("a CA certificate file that does not exist", async () => {
    const config = {
      ...stackConfig("dev"),
      [`${project}:caCertificates`]: JSON.stringify([{ name: "ca", file: "stacks/dev/certs/missing.pem" }]),
    };
    await expect(runProgram("dev", config)).rejects.toThrow(
      "the stack configuration has 1 problem(s):\n  config caCertificates[0].file: cannot read stacks/dev/certs/missing.pem (ENOENT)",
    );
  });
});
