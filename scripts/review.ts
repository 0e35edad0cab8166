// npm run review -- --stack local [--stack dev …] [--out FILE] [--comment-file FILE] [--comment] [--pr N]
// Previews the stacks and prints a pull-request review in Markdown; see scripts/lib/review/commands.ts.
import { reviewCommand } from "./lib/review/commands";
import { runCommand } from "./lib/review/main";

runCommand("review", reviewCommand);
