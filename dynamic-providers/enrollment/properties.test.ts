import * as fs from "node:fs";
import * as path from "node:path";

import { groupPropertyPolicies, propertyPolicies, type PropertyPolicy } from "./properties";

/** The README's "What changes how" table: each row's backticked properties and its "on change" text. */
function readmeTable(): { names: string[]; onChange: string }[] {
  const readme = fs.readFileSync(path.join(__dirname, "..", "..", "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("### What changes how"), readme.indexOf("### Safety"));
  return section
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) => {
      const [property, onChange] = line.split("|").slice(1, 3);
      return { names: [...property.matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1]), onChange: onChange.trim() };
    });
}

const policyOf: [RegExp, PropertyPolicy][] = [
  [/^replace/, "replace"],
  [/^update in place/, "update"],
  [/^update of the state only/, "state"],
  [/^provider setting/, "setting"],
  [/^computed by DPS/, "computed"],
  [/^derived by `check`/, "computed"],
];

test("the README's table says of every property what properties.ts does", () => {
  const documented: Record<string, PropertyPolicy | undefined> = {};
  for (const row of readmeTable()) {
    const policy = policyOf.find(([pattern]) => pattern.test(row.onChange))?.[1];
    for (const name of row.names) documented[name] = policy;
  }
  // linkedHubs and caCertificateNames are inputs check reads and never stores: in the README, not in the tables.
  const { linkedHubs, caCertificateNames, ...stored } = documented;
  expect([linkedHubs, caCertificateNames]).toEqual([undefined, undefined]);
  // One table in the README for both resource types: a group's policy for a field both have is the same.
  expect(stored).toEqual({ ...propertyPolicies, ...groupPropertyPolicies });
  for (const [name, policy] of Object.entries(groupPropertyPolicies)) {
    if (name in propertyPolicies)
      expect([name, policy]).toEqual([name, propertyPolicies[name as keyof typeof propertyPolicies]]);
  }
});
