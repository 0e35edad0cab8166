// The Pulumi program. Stack configuration (stacks/Pulumi.<stack>.yaml) chooses the DPS; the enrollment resources
// arrive with the dynamic provider in dynamic-providers/.
import * as pulumi from "@pulumi/pulumi";

const config = new pulumi.Config();

export const platform = config.get("platform") ?? "emulator";
