// Pulumi mocks that answer like Azure for the resources and invokes of components/azure-platform.ts, and record
// every registration and invoke so tests can assert exact types, names and inputs. There is no azure-native plugin
// and no Azure here: these tests prove the program's wiring, not Azure's behaviour.
import type * as pulumi from "@pulumi/pulumi";

export const subscriptionId = "00000000-0000-0000-0000-00000000cafe";
export const deployerObjectId = "11111111-1111-1111-1111-1111111111d1";
export const idScope = "0ne00C0FFEE";

const secretSig = "4dabf18193072939515e22adb298388d";
const secretValueSig = "1b47061264138c4ac30d75fd1eb44270";

/** How a secret input arrives in a mock (the SDK's wire form), and how a mock returns a secret output. */
export function secret(value: unknown): Record<string, unknown> {
  return { [secretSig]: secretValueSig, value };
}

function unwrapSecret(value: unknown): unknown {
  const wire = value as Record<string, unknown> | undefined;
  return wire?.[secretSig] === secretValueSig ? wire.value : value;
}

export function hubKey(hub: string): string {
  return Buffer.from(`iothubowner key of ${hub}`).toString("base64");
}

export function dpsKey(dps: string): string {
  return Buffer.from(`provisioningserviceowner key of ${dps}`).toString("base64");
}

/** Autonaming as azure-native does it (logical name plus a random suffix), with a fixed suffix. */
export function autoname(name: string): string {
  return `${name}a1b2c3d4`;
}

export interface Registration {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

export class AzureMocks implements pulumi.runtime.Mocks {
  readonly registrations: Registration[] = [];
  readonly calls: { token: string; inputs: Record<string, unknown> }[] = [];

  newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
    const inputs = args.inputs as Record<string, unknown>;
    this.registrations.push({ type: args.type, name: args.name, inputs });
    // Component resources are registered too; they have no state of their own.
    if (args.custom === false) return { id: "", state: {} };
    const rg = `/subscriptions/${subscriptionId}/resourceGroups/${String(inputs.resourceGroupName)}`;
    switch (args.type) {
      case "azure-native:resources:ResourceGroup": {
        const name = (inputs.resourceGroupName as string | undefined) ?? autoname(args.name);
        return { id: `/subscriptions/${subscriptionId}/resourceGroups/${name}`, state: { ...inputs, name } };
      }
      case "azure-native:iothub:IotHubResource": {
        const name = inputs.resourceName as string;
        return {
          id: `${rg}/providers/Microsoft.Devices/IotHubs/${name}`,
          state: { ...inputs, name, properties: { hostName: `${name}.azure-devices.net`, state: "Active" } },
        };
      }
      case "azure-native:deviceprovisioningservices:IotDpsResource": {
        const name = (inputs.provisioningServiceName as string | undefined) ?? autoname(args.name);
        // `properties` arrives secret (it holds the linked hubs' connection strings) and, as the engine marks outputs
        // of secret inputs secret, goes back secret, with what Azure computes added.
        const properties = unwrapSecret(inputs.properties) as Record<string, unknown>;
        return {
          id: `${rg}/providers/Microsoft.Devices/provisioningServices/${name}`,
          state: {
            ...inputs,
            name,
            properties: secret({
              ...properties,
              idScope,
              serviceOperationsHostName: `${name}.azure-devices-provisioning.net`,
              deviceProvisioningHostName: "global.azure-devices-provisioning.net",
              state: "Active",
            }),
          },
        };
      }
      case "azure-native:deviceprovisioningservices:DpsCertificate":
        return {
          id: `${rg}/providers/Microsoft.Devices/provisioningServices/${String(inputs.provisioningServiceName)}/certificates/${String(inputs.certificateName)}`,
          state: { ...inputs, name: inputs.certificateName },
        };
      case "azure-native:authorization:RoleAssignment":
        return {
          id: `${String(inputs.scope)}/providers/Microsoft.Authorization/roleAssignments/${args.name}`,
          state: inputs,
        };
      case "pulumi-nodejs:dynamic/dps:IndividualEnrollment":
        return { id: typeof inputs.registrationId === "string" ? inputs.registrationId : args.name, state: inputs };
      case "pulumi-nodejs:dynamic/dps:EnrollmentGroup":
        return { id: String(inputs.enrollmentGroupId), state: inputs };
      default:
        throw new Error(`unexpected resource type ${args.type}`);
    }
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    const inputs = args.inputs as Record<string, unknown>;
    this.calls.push({ token: args.token, inputs });
    switch (args.token) {
      case "azure-native:iothub:listIotHubResourceKeys": {
        const hub = inputs.resourceName as string;
        return {
          value: [
            { keyName: "iothubowner", primaryKey: hubKey(hub), secondaryKey: "c2Vjb25kYXJ5", rights: "RegistryWrite" },
            { keyName: "service", primaryKey: "c2VydmljZQ==", secondaryKey: "c2Vjb25kYXJ5", rights: "ServiceConnect" },
          ],
        };
      }
      case "azure-native:deviceprovisioningservices:listIotDpsResourceKeys":
        return {
          value: [
            {
              keyName: "provisioningserviceowner",
              primaryKey: dpsKey(inputs.provisioningServiceName as string),
              secondaryKey: "c2Vjb25kYXJ5",
              rights: "ServiceConfig, DeviceConnect, EnrollmentWrite",
            },
          ],
        };
      case "azure-native:authorization:getClientConfig":
        return {
          clientId: "22222222-2222-2222-2222-222222222222",
          objectId: deployerObjectId,
          subscriptionId,
          tenantId: "33333333-3333-3333-3333-333333333333",
        };
      case "azure-native:resources:getResourceGroup": {
        const name = inputs.resourceGroupName as string;
        return { id: `/subscriptions/${subscriptionId}/resourceGroups/${name}`, name, location: "northeurope" };
      }
      default:
        // An invoke the program should not make fails loudly instead of echoing its inputs.
        throw new Error(`unexpected invoke ${args.token}`);
    }
  }

  /** The registrations of one type, as `name → inputs`. */
  ofType(type: string): Record<string, Record<string, unknown>> {
    return Object.fromEntries(this.registrations.filter((r) => r.type === type).map((r) => [r.name, r.inputs]));
  }
}

/**
 * For afterAll: Pulumi's runtime keeps a short-lived timer and file read going after `runtime.disconnect()` (gone
 * within a second here); waiting them out lets the jest worker exit instead of being force-exited.
 */
export function letPulumiRuntimeSettle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1000));
}
