// The policies over DPS enrollments, without the PolicyPack (its constructor starts a server), so tests can call them.
// A policy sees secrets in plaintext: messages name the enrollment (its resource name), the rule and the reason,
// never a value from the props (no key, certificate, twin content or hub name).
import type {
  Policies,
  PolicyConfigSchema,
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";

import { enrollmentReader, type EnrollmentReader, type Props } from "./enrollments";

const daySeconds = 24 * 3600;

function days(seconds: number): string {
  const whole = Math.floor(seconds / daySeconds);
  if (whole < 1) return "less than a day";
  return whole === 1 ? "1 day" : `${whole} days`;
}

/** A resource validation that runs only for enrollment resources, with the reader of their type. */
function forEnrollments(
  validate: (args: ResourceValidationArgs, reader: EnrollmentReader, report: ReportViolation) => void,
): (args: ResourceValidationArgs, report: ReportViolation) => void {
  return (args, report) => {
    const reader = enrollmentReader(args.type);
    if (reader) validate(args, reader, report);
  };
}

/** The enrollments among a stack policy's resources, with their readers. */
function enrollmentsOf(resources: PolicyResource[]): { resource: PolicyResource; reader: EnrollmentReader }[] {
  return resources.flatMap((resource) => {
    const reader = enrollmentReader(resource.type);
    return reader ? [{ resource, reader }] : [];
  });
}

/**
 * A policy's settings from the policy config. The engine fills in the schema's defaults and checks types, but passes
 * unknown keys through: a misspelt setting would silently leave the default in force, so it is an error here.
 */
function settings<T extends object>(
  policy: string,
  schema: PolicyConfigSchema | undefined,
  args: { getConfig<U extends object>(): U },
): T {
  const config = args.getConfig<Record<string, unknown>>();
  const known = Object.keys(schema?.properties ?? {});
  const unknown = Object.keys(config).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw new Error(
      `policy config ${policy}: unknown setting ${unknown.map((k) => `'${k}'`).join(", ")} ` +
        `(${known.length > 0 ? `settings: ${known.join(", ")}` : "it has no settings"})`,
    );
  }
  return config as T;
}

export interface CertificateValidityConfig {
  expiryDays: number;
}

export const certificateValidityPolicyName = "enrollment-certificate-validity";

/** X.509 certificates must be valid now and stay valid for `expiryDays` more days. */
export function certificateValidityPolicy(now: () => number): ResourceValidationPolicy {
  const configSchema: PolicyConfigSchema = { properties: { expiryDays: { type: "integer", minimum: 0, default: 30 } } };
  return {
    name: certificateValidityPolicyName,
    description: "X.509 certificates (primary and secondary) are valid now and for at least expiryDays more days.",
    configSchema,
    validateResource: forEnrollments((args, reader, report) => {
      const { expiryDays } = settings<CertificateValidityConfig>(certificateValidityPolicyName, configSchema, args);
      const nowSeconds = Math.floor(now() / 1000);
      for (const { slot, notBefore, notAfter } of reader.certificates(args.props as Props)) {
        const subject = `enrollment '${args.name}': the ${slot} certificate`;
        if (notBefore > nowSeconds) {
          report(`${subject} is not valid yet (it becomes valid in ${days(notBefore - nowSeconds)})`);
        } else if (notAfter <= nowSeconds) {
          report(`${subject} has expired`);
        } else if (notAfter - nowSeconds < expiryDays * daySeconds) {
          report(
            `${subject} expires in ${days(notAfter - nowSeconds)}; this stack requires at least ${expiryDays} days ` +
              "of validity left",
          );
        }
      }
    }),
  };
}

export interface RegistrationIdPatternConfig {
  pattern: string;
}

export const registrationIdPatternPolicyName = "enrollment-registration-id-pattern";

function compilePattern(pattern: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (err) {
    throw new Error(
      `policy config ${registrationIdPatternPolicyName}.pattern: '${pattern}' is not a regular expression ` +
        `(${(err as Error).message})`,
      { cause: err },
    );
  }
}

/** Registration IDs follow the stack's naming pattern. */
export function registrationIdPatternPolicy(): ResourceValidationPolicy {
  const configSchema: PolicyConfigSchema = {
    properties: { pattern: { type: "string", default: "^[a-z0-9][a-z0-9-]*$" } },
  };
  return {
    name: registrationIdPatternPolicyName,
    description: "Registration IDs match the configured pattern (a regular expression).",
    configSchema,
    validateResource: forEnrollments((args, reader, report) => {
      const { pattern } = settings<RegistrationIdPatternConfig>(registrationIdPatternPolicyName, configSchema, args);
      const id = reader.registrationId(args.props as Props);
      if (id !== undefined && !compilePattern(pattern).test(id)) {
        report(`enrollment '${args.name}': the registration ID does not match the pattern ${pattern}`);
      }
    }),
  };
}

export interface InitialTwinSizeConfig {
  maxTagsBytes: number;
  maxDesiredPropertiesBytes: number;
}

export const initialTwinSizePolicyName = "enrollment-initial-twin-size";

/** Bytes of a value as compact JSON in UTF-8, the form DPS and IoT Hub receive. */
export function jsonBytes(value: unknown): number {
  return value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value), "utf8");
}

/** The initial twin fits the hub's limits (IoT Hub: 8 KB of tags, 32 KB of desired properties), or the stack's. */
export function initialTwinSizePolicy(): ResourceValidationPolicy {
  const configSchema: PolicyConfigSchema = {
    properties: {
      maxTagsBytes: { type: "integer", minimum: 0, default: 8192 },
      maxDesiredPropertiesBytes: { type: "integer", minimum: 0, default: 32768 },
    },
  };
  return {
    name: initialTwinSizePolicyName,
    description:
      "Initial twins stay within maxTagsBytes of tags and maxDesiredPropertiesBytes of desired properties (JSON).",
    configSchema,
    validateResource: forEnrollments((args, reader, report) => {
      const limits = settings<InitialTwinSizeConfig>(initialTwinSizePolicyName, configSchema, args);
      const { maxTagsBytes, maxDesiredPropertiesBytes } = limits;
      const twin = reader.initialTwin(args.props as Props);
      if (!twin) return;
      const parts = [
        ["initialTwin.tags", jsonBytes(twin.tags), maxTagsBytes],
        ["initialTwin.properties.desired", jsonBytes(twin.desired), maxDesiredPropertiesBytes],
      ] as const;
      for (const [part, size, max] of parts) {
        if (size > max) {
          report(`enrollment '${args.name}': ${part} is ${size} bytes of JSON, over the limit of ${max} bytes`);
        }
      }
    }),
  };
}

export const linkedHubsPolicyName = "enrollment-hubs-linked";

/** The stack output in which the program states the host names of the hubs its DPS links. */
export const linkedHubsOutput = "linkedHubHostNames";

function linkedHubsOfStack(resources: PolicyResource[]): string[] | undefined {
  const stack = resources.find((r) => r.type === "pulumi:pulumi:Stack");
  const hubs: unknown = stack?.props[linkedHubsOutput];
  return Array.isArray(hubs) && hubs.length > 0 && hubs.every((h) => typeof h === "string") ? hubs : undefined;
}

/**
 * Every hub an enrollment names is one the stack links: the stack output `linkedHubHostNames`, or the `linkedHubs`
 * the resource was given while its inputs are still raw. (The provider's check refuses unlinked hubs too, when the
 * resource is given its linked hubs; this policy also covers programs that do not, and raw inputs.)
 */
export function linkedHubsPolicy(): StackValidationPolicy {
  return {
    name: linkedHubsPolicyName,
    description: `Enrollments name only hubs the stack links (stack output ${linkedHubsOutput}).`,
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      settings(linkedHubsPolicyName, undefined, args);
      const enrollments = enrollmentsOf(args.resources);
      if (enrollments.length === 0) return;
      const stackHubs = linkedHubsOfStack(args.resources);
      for (const { resource, reader } of enrollments) {
        const props = resource.props as Props;
        const linked = (stackHubs ?? reader.linkedHubs(props) ?? []).map((h) => h.toLowerCase());
        if (linked.length === 0) continue;
        reader.iotHubs(props).forEach((hub, index) => {
          if (!linked.includes(hub.toLowerCase())) {
            report(
              `enrollment '${resource.name}': hub #${index + 1} in iotHubs is not linked to this stack`,
              resource.urn,
            );
          }
        });
      }
    },
  };
}

export interface CreatedEnabledConfig {
  allowDisabled: string[];
}

export const createdEnabledPolicyName = "enrollment-created-enabled";

/**
 * No enrollment is created disabled. CrossGuard tells a policy neither the operation nor the old state: at preview a
 * stack policy sees DPS's view (with an etag) for unchanged enrollments and the new inputs for every one the preview
 * creates, replaces or updates. So this flags a disabled enrollment that the preview writes; disabling an existing one
 * on purpose needs its name (or registration ID) under allowDisabled. Only meaningful at preview: after `up` every
 * enrollment carries DPS's etag.
 */
export function createdEnabledPolicy(): StackValidationPolicy {
  const configSchema: PolicyConfigSchema = {
    properties: { allowDisabled: { type: "array", items: { type: "string" }, default: [] } },
  };
  return {
    name: createdEnabledPolicyName,
    description: "Enrollments are created enabled: a disabled enrollment that a preview writes needs allowDisabled.",
    configSchema,
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      const { allowDisabled } = settings<CreatedEnabledConfig>(createdEnabledPolicyName, configSchema, args);
      for (const { resource, reader } of enrollmentsOf(args.resources)) {
        const props = resource.props as Props;
        if (reader.enabled(props) || reader.heldByDps(props)) continue;
        const id = reader.registrationId(props);
        if (allowDisabled.includes(resource.name) || (id !== undefined && allowDisabled.includes(id))) continue;
        report(
          `enrollment '${resource.name}' would be created or updated disabled; this stack creates enrollments ` +
            `enabled. Policies cannot tell a create from an update: to disable an existing enrollment on purpose, ` +
            `add '${resource.name}' to allowDisabled in the policy config`,
          resource.urn,
        );
      }
    },
  };
}

/** Every policy of the pack; `now` (milliseconds since the epoch) is the clock certificate validity is judged by. */
export function enrollmentPolicies(now: () => number = Date.now): Policies {
  return [
    certificateValidityPolicy(now),
    registrationIdPatternPolicy(),
    initialTwinSizePolicy(),
    linkedHubsPolicy(),
    createdEnabledPolicy(),
  ];
}
