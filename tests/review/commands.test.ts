// The command lines of npm run review and npm run deploy: usage errors name the flag, before any preview runs.
import { projectRoot } from "../../scripts/lib/pulumi-cli";
import {
  deployCommand,
  deployUsage,
  reviewCommand,
  reviewUsage,
  type CommandIO,
} from "../../scripts/lib/review/commands";

function io(): CommandIO & { output: string[] } {
  const output: string[] = [];
  return { workDir: projectRoot, env: {}, stdout: (text) => void output.push(text), output };
}

const cases: [string, (argv: string[], io: CommandIO) => Promise<number>, string[], string][] = [
  [
    "deploy",
    deployCommand,
    ["--stack", "dev", "--stack", "prod"],
    "--stack is given twice: deploy takes exactly one stack",
  ],
  ["deploy", deployCommand, ["--stack", "prod;rm"], '--stack "prod;rm" is not a stack name'],
  ["deploy", deployCommand, [], "--stack NAME is required"],
  [
    "deploy",
    deployCommand,
    ["--stack", "prod", "--pr", "five"],
    '--pr "five": expected a whole number from 1 to 9007199254740991',
  ],
  [
    "review",
    reviewCommand,
    ["--stack", "prod", "--comment"],
    "--comment needs --pr N or a pull_request event (GITHUB_EVENT_PATH)",
  ],
  [
    "review",
    reviewCommand,
    ["--stack", "prod", "--comment", "--pr", "5"],
    "--comment needs GITHUB_TOKEN and GITHUB_REPOSITORY in the environment",
  ],
  ["review", reviewCommand, ["--stack", "prod", "--bogus"], 'unknown flag "--bogus"'],
  ["review", reviewCommand, ["--stack"], "--stack needs a value"],
];

test.each(
  cases.map(([name, command, argv, message]) => ({ line: `${name} ${argv.join(" ")}`, command, argv, message })),
)("$line", async ({ command, argv, message }) => {
  await expect(command(argv, io())).rejects.toThrow(message);
});

test("--help prints the usage", async () => {
  const review = io();
  expect(await reviewCommand(["--help"], review)).toBe(0);
  expect(review.output).toEqual([`${reviewUsage}\n`]);
  const deploy = io();
  expect(await deployCommand(["-h"], deploy)).toBe(0);
  expect(deploy.output).toEqual([`${deployUsage}\n`]);
});
