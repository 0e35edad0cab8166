// The IndividualEnrollment dynamic provider as Pulumi stores it. This object is the module.exports of a file inside
// an installed package, so Pulumi serializes it into each resource's state as
// `require("@dps-enrollments/enrollment-provider/index.js")` instead of the provider's code: state stays small, the
// code that runs is the installed package's (compiled, in dist/), and a new implementation is not a change of the
// enrollments. The path is a contract with every existing state: keep this file, and keep it exporting the provider.
"use strict";
module.exports = require("./dist/providers").individualEnrollmentProvider;
