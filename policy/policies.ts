import type { ResourceValidationPolicy } from "@pulumi/policy";

const individualEnrollmentType = "pulumi-nodejs:dynamic/dps:IndividualEnrollment";

export const registrationIdPattern: ResourceValidationPolicy = {
  name: "enrollment-registration-id-pattern",
  description: "Registration IDs follow the stack's naming pattern.",
  configSchema: { properties: { pattern: { type: "string", default: "^[a-z0-9][a-z0-9-]*$" } } },
  validateResource: (args, reportViolation) => {
    if (args.type !== individualEnrollmentType) return;
    const { pattern } = args.getConfig<{ pattern: string }>();
    const id: unknown = args.props.registrationId;
    if (typeof id === "string" && !new RegExp(pattern).test(id)) {
      reportViolation(`enrollment '${args.name}': the registration ID does not match ${pattern}`);
    }
  },
};

export const enrollmentPolicies = [registrationIdPattern];
