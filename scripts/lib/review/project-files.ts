// What the review reads from a Pulumi project's files without running anything: the project name, a stack's
// platform and emulator data directory and manifest (from Pulumi.yaml defaults and the stack's config file; secure
// values are never read), the policy pack, and the certificate files that name a thumbprint's subject and expiry.
import * as fs from "node:fs";
import * as path from "node:path";

import { parse } from "yaml";

import { isPlainObject } from "../../../dynamic-providers/enrollment/normalize";
import { certificatesInFile, type CertificateInfo } from "./certificates";

export interface StackSettings {
  project: string;
  stack: string;
  platform: string;
  /** Absolute. */
  emulatorDataDir: string;
  /** Absolute, when the stack names its manifest. */
  manifest?: string;
  /** `--policy-pack` and `--policy-pack-config` flags for this stack, when the project has a pack. */
  policyFlags: string[];
}

function readYaml(file: string): Record<string, unknown> {
  const value: unknown = parse(fs.readFileSync(file, "utf8"));
  return isPlainObject(value) ? value : {};
}

/** The project's name from its Pulumi.yaml. */
export function projectName(workDir: string): string {
  const name = readYaml(path.join(workDir, "Pulumi.yaml")).name;
  if (typeof name !== "string") throw new Error(`${path.join(workDir, "Pulumi.yaml")}: no project name`);
  return name;
}

export function readStackSettings(workDir: string, stack: string): StackSettings {
  const projectFile = readYaml(path.join(workDir, "Pulumi.yaml"));
  const project = projectName(workDir);
  const declared = isPlainObject(projectFile.config) ? projectFile.config : {};
  const stackDir = typeof projectFile.stackConfigDir === "string" ? projectFile.stackConfigDir : ".";
  const stackFile = path.join(workDir, stackDir, `Pulumi.${stack}.yaml`);
  const stackConfig = fs.existsSync(stackFile) ? readYaml(stackFile).config : undefined;
  const config = isPlainObject(stackConfig) ? stackConfig : {};
  // A plain string value of the stack, else the project's declared default.
  const get = (key: string): string | undefined => {
    const value = config[`${project}:${key}`] ?? config[key];
    if (typeof value === "string") return value;
    const declaration = declared[key];
    const fallback = isPlainObject(declaration) ? declaration.default : declaration;
    return typeof fallback === "string" ? fallback : undefined;
  };
  const manifest = get("manifest");
  const policyDir = path.join(workDir, "policy");
  const policyConfig = path.join(policyDir, "config", `${stack}.json`);
  const policyFlags = fs.existsSync(path.join(policyDir, "PulumiPolicy.yaml"))
    ? ["--policy-pack", policyDir, ...(fs.existsSync(policyConfig) ? ["--policy-pack-config", policyConfig] : [])]
    : [];
  return {
    project,
    stack,
    platform: get("platform") || "emulator",
    emulatorDataDir: path.resolve(workDir, get("emulatorDataDir") || ".emulator-data"),
    ...(manifest ? { manifest: path.resolve(workDir, manifest) } : {}),
    policyFlags,
  };
}

const certificateExtensions = new Set([".pem", ".crt", ".cer", ".der"]);
const skippedDirectories = new Set(["node_modules", "build", "coverage"]);

/** Every certificate in the certificate files under these directories (not in node_modules or hidden folders). */
export function scanCertificateFiles(directories: readonly string[]): CertificateInfo[] {
  const found: CertificateInfo[] = [];
  const seen = new Set<string>();
  const walk = (dir: string): void => {
    if (seen.has(dir)) return;
    seen.add(dir);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!skippedDirectories.has(entry.name)) walk(file);
      } else if (entry.isFile() && certificateExtensions.has(path.extname(entry.name).toLowerCase())) {
        if (fs.statSync(file).size <= 1 << 20) found.push(...certificatesInFile(fs.readFileSync(file)));
      }
    }
  };
  directories.forEach(walk);
  return found;
}
