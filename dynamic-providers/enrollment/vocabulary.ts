// DPS's vocabulary for enrollment fields — allocation and reprovisioning policies, the registration and device ID
// rules — read from enrollments.schema.json, so the manifest's schema, its loader and the provider's `check` cannot
// disagree on them.
import schema from "../enrollments.schema.json";
import type { AllocationPolicy, ReprovisionPolicy } from "./types";

/** A string rule of the schema: its pattern, length limit and the reason given when a value breaks it. */
export interface StringRule {
  pattern: RegExp;
  maxLength?: number;
  message: string;
}

export const allocationPolicies = schema.definitions.allocationPolicy.enum as readonly AllocationPolicy[];
export const reprovisionPolicies = schema.definitions.reprovisionPolicy.enum as readonly ReprovisionPolicy[];

export const registrationIdRule: StringRule = {
  pattern: new RegExp(schema.definitions.registrationId.pattern, "u"),
  maxLength: schema.definitions.registrationId.maxLength,
  message: schema.definitions.registrationId.patternMessage,
};

export const deviceIdRule: StringRule = {
  pattern: new RegExp(schema.definitions.deviceId.pattern, "u"),
  message: schema.definitions.deviceId.patternMessage,
};

const webhook = schema.definitions.fields.properties.customAllocation.properties.webhookUrl;
export const webhookUrlRule: StringRule = {
  pattern: new RegExp(webhook.pattern, "u"),
  message: webhook.patternMessage,
};

/** The reason a string breaks a rule, or undefined when it keeps it. */
export function ruleProblem(value: string, rule: StringRule): string | undefined {
  if (value.length === 0) return "must not be empty";
  if (rule.maxLength !== undefined && value.length > rule.maxLength) {
    return `'${value}' is longer than ${rule.maxLength} characters`;
  }
  return rule.pattern.test(value) ? undefined : `'${value}' ${rule.message}`;
}
