// The policy pack, loaded by index.js when the engine starts it (`pulumi preview --policy-pack policy`). The policies
// live in policies.ts so tests can import them without starting the PolicyPack server. Enforcement levels and
// settings per stack: policy/config/<stack>.json (`--policy-pack-config`); without one, every policy is advisory.
import { PolicyPack } from "@pulumi/policy";

import { enrollmentPolicies } from "./policies";

new PolicyPack("dps-enrollments", { enforcementLevel: "advisory", policies: enrollmentPolicies() });
