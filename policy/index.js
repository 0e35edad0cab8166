// The policy pack's entry point, in JavaScript on purpose. @pulumi/pulumi's run-policy-pack, which the engine starts,
// registers ts-node *with type checking* for .ts files, which costs seconds on every preview (README: Policies). The
// pack is type-checked by `npm test`, as the program is (scripts/run.sh sets PULUMI_NODEJS_TRANSPILE_ONLY), so tsx's
// transpile-only loader takes over .ts files here.
require("tsx/cjs/api").register();
require("./pack.ts");
