import * as fs from "node:fs";
import * as path from "node:path";

import { propertyPolicies, type PropertyPolicy } from "./properties";

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
  // linkedHubs is an input check reads and never stores: in the README, not in the table of stored properties.
  const { linkedHubs, ...stored } = documented;
  expect(linkedHubs).toBeUndefined();
  expect(stored).toEqual(propertyPolicies);
});
