// AzureDpsPlatform under Pulumi mocks that answer like Azure: which values stay secret, what each access mode
// creates and reads, and an existing resource group. tests/platform/program.test.ts covers the dev and prod stacks.
import * as pulumi from "@pulumi/pulumi";

import {
  AzureMocks,
  dpsKey,
  hubKey,
  letPulumiRuntimeSettle,
  secret,
  subscriptionId,
} from "../tests/support/azure-mocks";
import { AzureDpsPlatform, type AzureDpsPlatformArgs } from "./azure-platform";

jest.setTimeout(60_000);
afterAll(letPulumiRuntimeSettle);

function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

const hubs: AzureDpsPlatformArgs["iotHubs"] = [
  { name: "t-hub-1", sku: "S1", units: 1, allocationWeight: 3, applyAllocationPolicy: true },
  { name: "t-hub-2", location: "eastus", sku: "B1", units: 2, allocationWeight: 1, applyAllocationPolicy: false },
];

function connectionString(hub: string): string {
  return `HostName=${hub}.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=${hubKey(hub)}`;
}

/** Builds the component with fresh mocks and waits until everything it registers and invokes is done. */
async function build(
  name: string,
  args: AzureDpsPlatformArgs,
): Promise<{ mocks: AzureMocks; platform: AzureDpsPlatform }> {
  const mocks = new AzureMocks();
  await pulumi.runtime.setMocks(mocks, "dps-enrollments", "test", false);
  const platform = new AzureDpsPlatform(name, args);
  await valueOf(pulumi.all([platform.idScope, platform.linkedHubHostNames, platform.service.accessKey]));
  await pulumi.runtime.disconnect();
  return { mocks, platform };
}

describe("shared access key", () => {
  let mocks: AzureMocks;
  let platform: AzureDpsPlatform;

  beforeAll(async () => {
    ({ mocks, platform } = await build("p", {
      location: "westus2",
      serviceAuth: "sharedAccessKey",
      iotHubs: hubs,
      dpsName: "t-dps",
      allocationPolicy: "Static",
    }));
  });

  test("the linked hubs' connection strings and the owner key are secret; names and hosts are not", async () => {
    expect(
      await Promise.all([
        pulumi.isSecret(platform.hubConnectionStrings["t-hub-1"]),
        pulumi.isSecret(platform.hubConnectionStrings["t-hub-2"]),
        pulumi.isSecret(platform.service.accessKey as pulumi.Output<string>),
        pulumi.isSecret(platform.idScope),
        pulumi.isSecret(platform.serviceHostName),
        pulumi.isSecret(platform.deviceHostName),
        pulumi.isSecret(platform.linkedHubHostNames),
      ]),
    ).toEqual([true, true, true, false, false, false, false]);
    expect(await valueOf(platform.hubConnectionStrings["t-hub-2"])).toEqual(connectionString("t-hub-2"));
    expect(platform.service.accessKeyName).toEqual("provisioningserviceowner");
    expect(await valueOf(platform.service.accessKey as pulumi.Output<string>)).toEqual(dpsKey("t-dps"));
    expect(await valueOf(platform.service.hostName)).toEqual("t-dps.azure-devices-provisioning.net");
  });

  test("hubs in their own region and SKU, linked with their weights and allocation flags", () => {
    expect(mocks.ofType("azure-native:iothub:IotHubResource")).toEqual({
      "p-t-hub-1": {
        resourceName: "t-hub-1",
        resourceGroupName: "p-rga1b2c3d4",
        location: "westus2",
        sku: { name: "S1", capacity: 1 },
      },
      "p-t-hub-2": {
        resourceName: "t-hub-2",
        resourceGroupName: "p-rga1b2c3d4",
        location: "eastus",
        sku: { name: "B1", capacity: 2 },
      },
    });
    expect(mocks.ofType("azure-native:deviceprovisioningservices:IotDpsResource")).toEqual({
      "p-dps": {
        provisioningServiceName: "t-dps",
        resourceGroupName: "p-rga1b2c3d4",
        location: "westus2",
        sku: { name: "S1", capacity: 1 },
        properties: secret({
          allocationPolicy: "Static",
          iotHubs: [
            {
              connectionString: connectionString("t-hub-1"),
              location: "westus2",
              allocationWeight: 3,
              applyAllocationPolicy: true,
            },
            {
              connectionString: connectionString("t-hub-2"),
              location: "eastus",
              allocationWeight: 1,
              applyAllocationPolicy: false,
            },
          ],
        }),
      },
    });
    expect(platform.hubNames).toEqual({
      "t-hub-1": "t-hub-1.azure-devices.net",
      "t-hub-2": "t-hub-2.azure-devices.net",
    });
  });
});

describe("Microsoft Entra ID", () => {
  test("without assignDataContributor: no role assignment, no client config, no key", async () => {
    const { mocks, platform } = await build("q", {
      location: "westus2",
      serviceAuth: "entraId",
      iotHubs: hubs.slice(0, 1),
    });
    expect(mocks.registrations.map((r) => `${r.type}::${r.name}`)).toEqual([
      "dps-enrollments:azure:AzureDpsPlatform::q",
      "azure-native:resources:ResourceGroup::q-rg",
      "azure-native:iothub:IotHubResource::q-t-hub-1",
      "azure-native:deviceprovisioningservices:IotDpsResource::q-dps",
    ]);
    expect(mocks.calls.map((c) => c.token)).toEqual(["azure-native:iothub:listIotHubResourceKeys"]);
    expect(Object.keys(platform.service)).toEqual(["hostName"]);
    expect(await valueOf(platform.service.hostName)).toEqual("q-dpsa1b2c3d4.azure-devices-provisioning.net");
    expect(platform.dataContributorAssignment).toBeUndefined();
  });

  test("in an existing resource group, the role assignment is scoped to the DPS", async () => {
    const { mocks } = await build("r", {
      location: "westus2",
      resourceGroupName: "rg-existing",
      serviceAuth: "entraId",
      assignDataContributor: true,
      iotHubs: hubs.slice(0, 1),
    });
    expect(mocks.ofType("azure-native:resources:ResourceGroup")).toEqual({});
    expect(mocks.calls.filter((c) => c.token === "azure-native:resources:getResourceGroup")).toEqual([
      { token: "azure-native:resources:getResourceGroup", inputs: { resourceGroupName: "rg-existing" } },
    ]);
    expect(mocks.ofType("azure-native:authorization:RoleAssignment")).toEqual({
      "r-dps-data-contributor": {
        principalId: "11111111-1111-1111-1111-1111111111d1",
        principalType: "User",
        roleDefinitionId: `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/dfce44e4-17b7-4bd1-a6d1-04996ec95633`,
        scope: `/subscriptions/${subscriptionId}/resourceGroups/rg-existing/providers/Microsoft.Devices/provisioningServices/r-dpsa1b2c3d4`,
      },
    });
  });
});
