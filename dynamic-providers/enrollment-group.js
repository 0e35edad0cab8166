// The EnrollmentGroup dynamic provider as Pulumi stores it: like index.js for IndividualEnrollment, this object is the
// module.exports of a file inside the installed package, so each group's state holds
// `require("@dps-enrollments/enrollment-provider/enrollment-group.js")`, not the provider's code. The path is a
// contract with every existing state: keep this file, and keep it exporting the provider.
"use strict";
module.exports = require("./dist/providers").enrollmentGroupProvider;
