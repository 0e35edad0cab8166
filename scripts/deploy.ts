// npm run deploy -- --stack S [--check-only] [--pr N] [--no-plan]
// Applies a stack only when its change set is the one reviewed on the pull request; see scripts/lib/review/commands.ts.
import { deployCommand } from "./lib/review/commands";
import { runCommand } from "./lib/review/main";

runCommand("deploy", deployCommand);
