import type * as pulumi from "@pulumi/pulumi";

/** The EnrollmentGroup dynamic provider (the object Pulumi stores as a require() of this file). */
declare const provider: pulumi.dynamic.ResourceProvider;
export = provider;
