// AzureDpsPlatform: a Device Provisioning Service and the IoT hubs it links, provisioned with azure-native — the
// resource group (or an existing one), the hubs, the DPS with its allocation policy and linked hubs, optional
// verified CA certificates, and the data-plane access enrollments use: a "Device Provisioning Service Data
// Contributor" role assignment for the deploying principal (Microsoft Entra ID) or the provisioningserviceowner key.
// Only the azure-native modules it uses are imported: the package's root index loads every Azure service.
import * as authorization from "@pulumi/azure-native/authorization";
import * as deviceprovisioningservices from "@pulumi/azure-native/deviceprovisioningservices";
import * as iothub from "@pulumi/azure-native/iothub";
import * as resources from "@pulumi/azure-native/resources";
import * as pulumi from "@pulumi/pulumi";

import { iotHubHostName } from "./platform-config";

/** Built-in role "Device Provisioning Service Data Contributor": full access to DPS data-plane operations. */
export const dpsDataContributorRoleId = "dfce44e4-17b7-4bd1-a6d1-04996ec95633";
/** The shared access policies DPS and IoT Hub create with every instance, with all rights. */
export const dpsOwnerPolicy = "provisioningserviceowner";
export const iotHubOwnerPolicy = "iothubowner";

export interface AzureIotHubArgs {
  /** The hub's resource name (fixed, not autonamed: manifests name hubs by it and its host name derives from it). */
  readonly name: string;
  /** Azure region; defaults to the platform's location. */
  readonly location?: pulumi.Input<string>;
  /** F1, S1, S2, S3, B1, B2 or B3. */
  readonly sku: pulumi.Input<string>;
  /** Provisioned units of the SKU. */
  readonly units: pulumi.Input<number>;
  /** The hub's weight in DPS's hashed allocation. */
  readonly allocationWeight?: pulumi.Input<number>;
  /** Whether DPS's allocation policy may place devices on this hub. */
  readonly applyAllocationPolicy?: pulumi.Input<boolean>;
}

export interface AzureCaCertificateArgs {
  /** The certificate's name in DPS. */
  readonly name: string;
  /** PEM text, or base64 of a DER file. */
  readonly certificate: pulumi.Input<string>;
  /** Upload as verified (no proof of possession); DPS only accepts group enrollments of verified CAs. */
  readonly verified?: pulumi.Input<boolean>;
}

export interface AzureDpsPlatformArgs {
  /** Azure region of the resource group and the DPS (and default of the hubs). */
  readonly location: pulumi.Input<string>;
  /** Use this existing resource group instead of creating one. */
  readonly resourceGroupName?: pulumi.Input<string>;
  /** The DPS's resource name; autonamed when omitted. */
  readonly dpsName?: pulumi.Input<string>;
  /** DPS SKU (S1) and units. */
  readonly dpsSku?: pulumi.Input<string>;
  readonly dpsCapacity?: pulumi.Input<number>;
  /** The DPS's default allocation policy: Hashed, GeoLatency or Static. */
  readonly allocationPolicy?: pulumi.Input<string>;
  /** The IoT hubs to create and link, in this order. */
  readonly iotHubs: readonly AzureIotHubArgs[];
  /** Verified CA certificates for group enrollments. */
  readonly caCertificates?: readonly AzureCaCertificateArgs[];
  /** How enrollments reach the DPS's service API: Microsoft Entra ID or the provisioningserviceowner key. */
  readonly serviceAuth: "entraId" | "sharedAccessKey";
  /** With entraId: assign the deploying principal "Device Provisioning Service Data Contributor" on the DPS. */
  readonly assignDataContributor?: boolean;
  /** User, ServicePrincipal or Group: what the deploying principal is (azure-native assumes User). */
  readonly deployerPrincipalType?: pulumi.Input<string>;
}

/** How enrollments reach the DPS: the shape DpsEnrollmentsArgs.service takes. */
export interface DpsServiceAccess {
  hostName: pulumi.Output<string>;
  accessKeyName?: string;
  /** Secret. */
  accessKey?: pulumi.Output<string>;
}

interface AccessRule {
  keyName: string;
  primaryKey?: string;
}

/** The primary key of a shared access policy from a list-keys invoke, as a secret. */
function primaryKeyOf(
  rules: pulumi.Output<{ value?: AccessRule[] }>,
  keyName: string,
  owner: string,
): pulumi.Output<string> {
  return pulumi.secret(
    rules.apply((r) => {
      const key = r.value?.find((k) => k.keyName === keyName)?.primaryKey;
      if (!key) throw new Error(`${owner} has no shared access policy '${keyName}' with a primary key`);
      return key;
    }),
  );
}

export class AzureDpsPlatform extends pulumi.ComponentResource {
  readonly resourceGroupName: pulumi.Output<string>;
  readonly hubs: Record<string, iothub.IotHubResource> = {};
  readonly dps: deviceprovisioningservices.IotDpsResource;
  readonly certificates: Record<string, deviceprovisioningservices.DpsCertificate> = {};
  readonly dataContributorAssignment?: authorization.RoleAssignment;
  /** Hub name → host name, known before anything exists (Azure derives host names from names). */
  readonly hubNames: Record<string, string>;
  /** Secret connection strings (iothubowner) the DPS links the hubs with, by hub name. */
  readonly hubConnectionStrings: Record<string, pulumi.Output<string>> = {};
  readonly idScope: pulumi.Output<string>;
  /** Service API host, e.g. `mydps.azure-devices-provisioning.net`. */
  readonly serviceHostName: pulumi.Output<string>;
  /** Device API host (global.azure-devices-provisioning.net). */
  readonly deviceHostName: pulumi.Output<string>;
  /** The linked hubs' host names as Azure reports them. */
  readonly linkedHubHostNames: pulumi.Output<string[]>;
  readonly service: DpsServiceAccess;

  constructor(name: string, args: AzureDpsPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dps-enrollments:azure:AzureDpsPlatform", name, {}, opts);
    const parent = { parent: this };

    // An existing group is looked up, so a wrong name fails at preview rather than halfway through an update.
    this.resourceGroupName =
      args.resourceGroupName !== undefined
        ? resources.getResourceGroupOutput({ resourceGroupName: args.resourceGroupName }, parent).apply((g) => g.name)
        : new resources.ResourceGroup(`${name}-rg`, { location: args.location }, parent).name;

    const hubLinks = args.iotHubs.map((hub) => {
      const location = hub.location ?? args.location;
      const resource = new iothub.IotHubResource(
        `${name}-${hub.name}`,
        {
          resourceName: hub.name,
          resourceGroupName: this.resourceGroupName,
          location,
          sku: { name: hub.sku, capacity: hub.units },
        },
        parent,
      );
      this.hubs[hub.name] = resource;
      const hostName = resource.properties.apply((p) => p.hostName ?? iotHubHostName(hub.name));
      // resource.name (not hub.name) makes the invoke wait for the hub to exist.
      const keys = iothub.listIotHubResourceKeysOutput(
        { resourceGroupName: this.resourceGroupName, resourceName: resource.name },
        parent,
      );
      const key = primaryKeyOf(keys, iotHubOwnerPolicy, `IoT hub ${hub.name}`);
      const connectionString = pulumi.secret(
        pulumi.interpolate`HostName=${hostName};SharedAccessKeyName=${iotHubOwnerPolicy};SharedAccessKey=${key}`,
      );
      this.hubConnectionStrings[hub.name] = connectionString;
      return {
        hostName,
        link: {
          connectionString,
          location,
          allocationWeight: hub.allocationWeight,
          applyAllocationPolicy: hub.applyAllocationPolicy,
        },
      };
    });
    this.hubNames = Object.fromEntries(args.iotHubs.map((hub) => [hub.name, iotHubHostName(hub.name)]));

    this.dps = new deviceprovisioningservices.IotDpsResource(
      `${name}-dps`,
      {
        ...(args.dpsName !== undefined ? { provisioningServiceName: args.dpsName } : {}),
        resourceGroupName: this.resourceGroupName,
        location: args.location,
        sku: { name: args.dpsSku ?? "S1", capacity: args.dpsCapacity ?? 1 },
        properties: {
          allocationPolicy: args.allocationPolicy ?? "Hashed",
          iotHubs: hubLinks.map((h) => h.link),
        },
      },
      parent,
    );

    for (const certificate of args.caCertificates ?? []) {
      this.certificates[certificate.name] = new deviceprovisioningservices.DpsCertificate(
        `${name}-ca-${certificate.name}`,
        {
          certificateName: certificate.name,
          provisioningServiceName: this.dps.name,
          resourceGroupName: this.resourceGroupName,
          properties: { certificate: certificate.certificate, isVerified: certificate.verified ?? false },
        },
        parent,
      );
    }

    // The DPS's properties echo the linked hubs' secret connection strings, which can make the whole object secret;
    // the ID scope and host names are not.
    this.idScope = pulumi.unsecret(this.dps.properties.idScope);
    this.serviceHostName = pulumi.unsecret(this.dps.properties.serviceOperationsHostName);
    this.deviceHostName = pulumi.unsecret(this.dps.properties.deviceProvisioningHostName);
    this.linkedHubHostNames = pulumi.all(hubLinks.map((h) => h.hostName));

    if (args.serviceAuth === "sharedAccessKey") {
      const keys = deviceprovisioningservices.listIotDpsResourceKeysOutput(
        { provisioningServiceName: this.dps.name, resourceGroupName: this.resourceGroupName },
        parent,
      );
      this.service = {
        hostName: this.serviceHostName,
        accessKeyName: dpsOwnerPolicy,
        accessKey: primaryKeyOf(keys, dpsOwnerPolicy, "the DPS"),
      };
    } else {
      this.service = { hostName: this.serviceHostName };
      if (args.assignDataContributor) {
        const client = authorization.getClientConfigOutput(parent);
        this.dataContributorAssignment = new authorization.RoleAssignment(
          `${name}-dps-data-contributor`,
          {
            principalId: client.objectId,
            principalType: args.deployerPrincipalType ?? "User",
            roleDefinitionId: pulumi.interpolate`/subscriptions/${client.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${dpsDataContributorRoleId}`,
            scope: this.dps.id,
          },
          parent,
        );
      }
    }

    this.registerOutputs({
      resourceGroupName: this.resourceGroupName,
      idScope: this.idScope,
      serviceHostName: this.serviceHostName,
      deviceHostName: this.deviceHostName,
      linkedHubHostNames: this.linkedHubHostNames,
    });
  }
}
