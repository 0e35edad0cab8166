import type * as pulumi from "@pulumi/pulumi";

/** The IndividualEnrollment dynamic provider (its implementation is loaded from the project at run time). */
declare const provider: pulumi.dynamic.ResourceProvider;
export = provider;
