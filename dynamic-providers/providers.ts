// The provider objects of this package's resource types, one per type, all on the process's shared runtime. The
// package root's index.js exports the IndividualEnrollment one: that module.exports is what Pulumi stores as a
// require() in the state. A second resource type gets a root file of its own exporting its object from here.
import { createIndividualEnrollmentProvider } from "./enrollment/individual-enrollment-provider";
import { sharedRuntime } from "./enrollment/runtime";

export const individualEnrollmentProvider = createIndividualEnrollmentProvider(sharedRuntime());
