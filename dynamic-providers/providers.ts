// The provider objects of this package's resource types, one per type, all on the process's shared runtime. Each has
// a root file of the package whose module.exports it is (index.js: IndividualEnrollment, enrollment-group.js:
// EnrollmentGroup): that module.exports is what Pulumi stores as a require() in the state.
import { createEnrollmentGroupProvider } from "./enrollment/enrollment-group-provider";
import { createIndividualEnrollmentProvider } from "./enrollment/individual-enrollment-provider";
import { sharedRuntime } from "./enrollment/runtime";

export const individualEnrollmentProvider = createIndividualEnrollmentProvider(sharedRuntime());
export const enrollmentGroupProvider = createEnrollmentGroupProvider(sharedRuntime());
