import * as fs from "node:fs";
import * as path from "node:path";

import { parse } from "yaml";

import { configKeys } from "../dynamic-providers/enrollment/connection";
import { pacingConfigKeys } from "../dynamic-providers/enrollment/pacing";
import {
  PlatformConfigError,
  platformConfigDefaults,
  readPlatformConfig,
  type PlatformConfig,
  type PlatformConfigKey,
} from "./platform-config";

type RawValues = Partial<Record<PlatformConfigKey, unknown>>;

/** Config as the CLI hands it over: strings as they are, everything else as JSON text. */
function read(values: RawValues): PlatformConfig {
  return readPlatformConfig((key) => {
    const value = values[key];
    if (value === undefined) return undefined;
    return typeof value === "string" ? value : JSON.stringify(value);
  });
}

function problems(values: RawValues): string[] {
  try {
    read(values);
  } catch (err) {
    if (err instanceof PlatformConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected the configuration to be refused");
}

const minimal: RawValues = { platform: "azure", location: "westeurope", iotHubs: [{ name: "hub-1" }] };

test("Pulumi.yaml declares every platform key with the defaults the validation applies", () => {
  const project = parse(fs.readFileSync(path.join(__dirname, "..", "Pulumi.yaml"), "utf8")) as {
    config: Record<string, { default?: unknown; description?: string }>;
  };
  const declared = Object.fromEntries(
    Object.keys(platformConfigDefaults).map((key) => [key, project.config[key]?.default]),
  );
  expect(declared).toEqual(platformConfigDefaults);
  for (const key of Object.keys(platformConfigDefaults)) {
    expect([key, typeof project.config[key]?.description]).toEqual([key, "string"]);
  }
});

test("Pulumi.yaml declares every key the program and the provider read, but the secret connectionString", () => {
  const project = parse(fs.readFileSync(path.join(__dirname, "..", "Pulumi.yaml"), "utf8")) as {
    config: Record<string, { type?: string; default?: unknown; description?: string }>;
  };
  const read = [...Object.values(configKeys), pacingConfigKeys.rate, "manifest", "linkedHubs"].filter(
    (k) => k !== "connectionString",
  );
  expect(Object.fromEntries(read.map((key) => [key, project.config[key]?.default]))).toStrictEqual({
    platform: "emulator",
    hostName: "",
    endpoint: "",
    caCertificate: "",
    emulatorDataDir: ".emulator-data",
    dpsOperationsPerMinute: 0,
    manifest: "",
    linkedHubs: [],
  });
  expect(project.config.connectionString).toBeUndefined();
  expect(project.config.platform.description).toContain("secret `connectionString`");
});

test("emulator and existing need nothing else; the default is emulator", () => {
  expect(read({})).toEqual({ platform: "emulator" });
  expect(read({ platform: "existing", location: "" })).toEqual({ platform: "existing" });
});

test("an unknown platform names the key and the choices", () => {
  expect(() => read({ platform: "aws" })).toThrow(
    "the stack configuration has 1 problem(s):\n  config platform: 'aws' is not one of emulator, existing, azure",
  );
});

test("azure: the defaults fill everything but location and the hubs", () => {
  expect(read(minimal)).toEqual({
    platform: "azure",
    azure: {
      location: "westeurope",
      dpsSku: "S1",
      dpsCapacity: 1,
      allocationPolicy: "Hashed",
      iotHubs: [
        {
          name: "hub-1",
          location: "westeurope",
          sku: "S1",
          units: 1,
          allocationWeight: 1,
          applyAllocationPolicy: true,
        },
      ],
      serviceAuth: "entraId",
      assignDataContributor: false,
      deployerPrincipalType: "User",
      caCertificates: [],
    },
  });
});

test("azure: every key given, as the CLI passes them (numbers and booleans as text)", () => {
  expect(
    read({
      ...minimal,
      resourceGroupName: "rg-iot(prod)",
      dpsName: "my-dps-01",
      dpsCapacity: "3",
      allocationPolicy: "GeoLatency",
      iotHubs: [
        { name: "hub-1", location: "northeurope", sku: "S3", units: 4, allocationWeight: 5 },
        { name: "hub-2", sku: "F1", applyAllocationPolicy: false, allocationWeight: 0 },
      ],
      serviceAuth: "entraId",
      assignDataContributor: "true",
      deployerPrincipalType: "ServicePrincipal",
      caCertificates: [
        { name: "root.ca_1", file: "certs/root.pem", verified: true },
        { name: "other", file: "o.cer" },
      ],
    }),
  ).toEqual({
    platform: "azure",
    azure: {
      location: "westeurope",
      resourceGroupName: "rg-iot(prod)",
      dpsName: "my-dps-01",
      dpsSku: "S1",
      dpsCapacity: 3,
      allocationPolicy: "GeoLatency",
      iotHubs: [
        {
          name: "hub-1",
          location: "northeurope",
          sku: "S3",
          units: 4,
          allocationWeight: 5,
          applyAllocationPolicy: true,
        },
        {
          name: "hub-2",
          location: "westeurope",
          sku: "F1",
          units: 1,
          allocationWeight: 0,
          applyAllocationPolicy: false,
        },
      ],
      serviceAuth: "entraId",
      assignDataContributor: true,
      deployerPrincipalType: "ServicePrincipal",
      caCertificates: [
        { name: "root.ca_1", file: "certs/root.pem", verified: true },
        { name: "other", file: "o.cer", verified: false },
      ],
    },
  });
});

test("azure: every scalar key's problem, each naming the key", () => {
  expect(
    problems({
      platform: "azure",
      location: " ",
      resourceGroupName: "rg.",
      dpsName: "d",
      dpsSku: "S2",
      dpsCapacity: "1.5",
      allocationPolicy: "hashed",
      serviceAuth: "sas",
      assignDataContributor: "yes",
      deployerPrincipalType: "Robot",
      iotHubs: [],
    }),
  ).toEqual([
    "config location: required when platform is azure (an Azure region, e.g. westeurope)",
    "config resourceGroupName: 'rg.' is not a resource group name (1 to 90 letters, digits, '-', '_', '.', '(', ')', not ending in '.')",
    "config dpsName: 'd' is not a DPS name (3 to 64 letters, digits and hyphens)",
    "config dpsSku: 'S2' is not one of S1",
    "config dpsCapacity: must be a whole number of at least 1 (got '1.5')",
    "config allocationPolicy: 'hashed' is not one of Hashed, GeoLatency, Static",
    "config serviceAuth: 'sas' is not one of entraId, sharedAccessKey",
    "config assignDataContributor: must be true or false (got 'yes')",
    "config deployerPrincipalType: 'Robot' is not one of User, ServicePrincipal, Group",
    "config iotHubs: platform azure needs at least one IoT hub to link, e.g. [{name: my-hub-1}]",
  ]);
});

test("azure: a role assignment with the shared access key is refused as contradictory", () => {
  expect(problems({ ...minimal, serviceAuth: "sharedAccessKey", assignDataContributor: true })).toEqual([
    "config assignDataContributor: applies only with serviceAuth entraId (with sharedAccessKey the program uses the provisioningserviceowner key)",
  ]);
});

test("azure: hub problems name the hub's index and field", () => {
  expect(
    problems({
      ...minimal,
      iotHubs: [
        { name: "123" },
        { name: "-hub" },
        "hub-3",
        { name: "Hub-1", sku: "S4", units: 0, allocationWeight: -1, applyAllocationPolicy: "yes", tier: "x" },
        { name: "hub-1" },
        { name: "HUB-1" },
        { name: "free-hub", sku: "F1", units: 2 },
      ],
    }),
  ).toEqual([
    "config iotHubs[0].name: must be 3 to 50 letters, digits and hyphens, not only digits, not starting or ending with a hyphen",
    "config iotHubs[1].name: must be 3 to 50 letters, digits and hyphens, not only digits, not starting or ending with a hyphen",
    "config iotHubs[2]: must be a mapping of name, location, sku, units, allocationWeight, applyAllocationPolicy",
    "config iotHubs[3].tier: unknown field (known: name, location, sku, units, allocationWeight, applyAllocationPolicy)",
    'config iotHubs[3].sku: "S4" is not one of F1, S1, S2, S3, B1, B2, B3',
    "config iotHubs[3].units: must be a whole number of at least 1 (got 0)",
    "config iotHubs[3].allocationWeight: must be a whole number of at least 0 (got -1)",
    "config iotHubs[3].applyAllocationPolicy: must be true or false",
    "config iotHubs[4].name: 'hub-1' is listed twice",
    "config iotHubs[5].name: 'HUB-1' is listed twice",
    "config iotHubs[6].units: the free tier F1 has exactly 1 unit (got 2)",
  ]);
  expect(problems({ ...minimal, iotHubs: "hub-1" })).toEqual(["config iotHubs: must be a list"]);
});

test("azure: CA certificate problems name the certificate's index and field", () => {
  expect(
    problems({
      ...minimal,
      caCertificates: [
        { name: "root ca", file: "" },
        { name: "root", file: "a.pem", verified: "yes", key: "k.pem" },
        { name: "root", file: "b.pem" },
        42,
      ],
    }),
  ).toEqual([
    "config caCertificates[0].name: must be 1 to 64 letters, digits, '-', '.' or '_'",
    "config caCertificates[0].file: must be the path of a PEM or DER certificate file, relative to the project",
    "config caCertificates[1].key: unknown field (known: name, file, verified)",
    "config caCertificates[1].verified: must be true or false",
    "config caCertificates[2].name: 'root' is listed twice",
    "config caCertificates[3]: must be a mapping of name, file, verified",
  ]);
});
