// The IndividualEnrollment dynamic provider as Pulumi serializes it. Because this object is the module.exports of a
// package installed in node_modules, Pulumi stores `require("@dps-enrollments/enrollment-provider")` in each
// resource's state instead of the provider's code: state stays small, and a change to the implementation
// (dynamic-providers/enrollment/runtime.ts, loaded here at run time) never reads as a change of provider.
"use strict";
const path = require("path");

let runtime;
function load() {
  if (!runtime) {
    // The dynamic-provider process runs in the project directory; DPS_ENROLLMENTS_ROOT points elsewhere.
    const root = process.env.DPS_ENROLLMENTS_ROOT || process.cwd();
    require(require.resolve("ts-node", { paths: [root] })).register({ transpileOnly: true, dir: root });
    runtime = require(path.join(root, "dynamic-providers", "enrollment", "runtime")).sharedRuntime(root);
  }
  return runtime;
}

module.exports = {
  configure: (req) => load().configure(req),
  check: (olds, news) => load().check(olds, news),
  diff: (id, olds, news) => load().diff(id, olds, news),
  create: (inputs) => load().create(inputs),
  read: (id, props) => load().read(id, props),
  update: (id, olds, news) => load().update(id, olds, news),
  delete: (id, props) => load().delete(id, props),
};
