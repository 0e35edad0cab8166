// A device's key in a symmetric-key enrollment group, for provisioning it: read the group's primary key from the
// stack's outputs (`enrollmentGroupKeys`, secret: the pinned CLI's `stack output --show-secrets`) and derive the
// device's key from it. The key is printed alone on stdout and written nowhere.
//
//   npm run -s device-key -- --stack local --group symmetric-devices --registration-id sensor-42
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";

import { deriveDeviceKey } from "../dynamic-providers/enrollment/device-key";
import { FlagError, parseFlags } from "./lib/flags";
import { pinnedPulumiCommand, projectRoot, stackEnv } from "./lib/pulumi-cli";

const usage = `Usage: npm run -s device-key -- --stack STACK --group GROUP --registration-id ID
  --stack STACK            the stack whose enrollment group it is (e.g. local)
  --group GROUP            a symmetric-key enrollment group of its manifest (enrollmentGroups:)
  --registration-id ID     the device's registration ID
  --help, -h               this list
Prints the device's key: base64(HMAC-SHA256(the group's primary key, ID)).`;

/** A request this command cannot answer; the message says why. */
export class DeviceKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DeviceKeyError";
  }
}

interface Options {
  stack: string;
  group: string;
  registrationId: string;
}

function parse(argv: readonly string[]): Options | "help" {
  const flags = parseFlags(argv, {
    stack: { type: "string" },
    group: { type: "string" },
    "registration-id": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (flags.help) return "help";
  for (const name of ["stack", "group", "registration-id"] as const) {
    if (!flags[name]) throw new FlagError(`--${name} is required`);
  }
  return {
    stack: flags.stack as string,
    group: flags.group as string,
    registrationId: flags["registration-id"] as string,
  };
}

/** The stack outputs this command reads (index.ts exports them). */
interface GroupOutputs {
  enrollmentGroups?: Record<string, string>;
  enrollmentGroupKeys?: Record<string, string>;
}

/** The group's primary key from the stack's outputs, or an error naming the stack and group and saying why not. */
export async function groupPrimaryKey(stack: Stack, group: string): Promise<string> {
  const outputs = await stack.outputs();
  const values: GroupOutputs = {
    enrollmentGroups: outputs.enrollmentGroups?.value as Record<string, string> | undefined,
    enrollmentGroupKeys: outputs.enrollmentGroupKeys?.value as Record<string, string> | undefined,
  };
  const groups = values.enrollmentGroups ?? {};
  const id = group.toLowerCase();
  const type = Object.hasOwn(groups, id) ? groups[id] : undefined;
  if (type === undefined) {
    const known = Object.keys(groups).sort();
    throw new DeviceKeyError(
      `stack '${stack.name}' has no enrollment group '${group}' ` +
        `(${known.length > 0 ? `its groups: ${known.join(", ")}` : "it has none: add enrollmentGroups: to its manifest and run pulumi up"})`,
    );
  }
  if (type !== "symmetricKey") {
    throw new DeviceKeyError(
      `enrollment group '${id}' of stack '${stack.name}' uses ${type} attestation, not a symmetric key: its ` +
        "devices prove themselves with certificates, and have no key to derive",
    );
  }
  const key = values.enrollmentGroupKeys?.[id];
  if (!key) {
    throw new DeviceKeyError(`stack '${stack.name}' has no key of enrollment group '${id}' yet: run pulumi up`);
  }
  return key;
}

/** The `local` stack's documented passphrase when none is chosen (as `npm run pulumi` does). */
function passphrase(stack: string): Record<string, string> {
  const chosen = stackEnv(stack, process.env).PULUMI_CONFIG_PASSPHRASE;
  return chosen ? { PULUMI_CONFIG_PASSPHRASE: chosen } : {};
}

/** The stack by name in this project, or an error saying it does not exist. */
async function selectStack(name: string): Promise<Stack> {
  try {
    return await LocalWorkspace.selectStack(
      { stackName: name, workDir: projectRoot },
      { pulumiCommand: await pinnedPulumiCommand(), envVars: passphrase(name) },
    );
  } catch (err) {
    if (/no stack named/i.test(String((err as Error).message))) {
      throw new DeviceKeyError(`stack '${name}' does not exist (npm run pulumi -- stack ls lists the stacks)`);
    }
    throw err;
  }
}

if (require.main === module) {
  (async () => {
    const options = parse(process.argv.slice(2));
    if (options === "help") {
      console.log(usage);
      return;
    }
    const stack = await selectStack(options.stack);
    console.log(deriveDeviceKey(await groupPrimaryKey(stack, options.group), options.registrationId));
  })().catch((err: unknown) => {
    console.error(`device-key: ${err instanceof Error ? err.message : String(err)}`);
    if (err instanceof FlagError) console.error("npm run device-key -- --help lists every flag");
    process.exit(1);
  });
}
