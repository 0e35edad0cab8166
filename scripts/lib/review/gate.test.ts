import { gateDecision } from "./gate";

const current = `sha256:${"aa".repeat(32)}`;
const other = `sha256:${"bb".repeat(32)}`;
const input = { stack: "prod", pr: 42, author: "github-actions[bot]", current };

test("the reviewed change set: allowed", () => {
  expect(gateDecision({ ...input, reviewed: { fingerprint: current } })).toEqual({
    allowed: true,
    reason: "stack 'prod': the change set is the one reviewed on pull request #42",
  });
});

test("another change set: refused, naming both fingerprints", () => {
  expect(gateDecision({ ...input, reviewed: { fingerprint: other } })).toEqual({
    allowed: false,
    reason: `deploy of stack 'prod' refused: the change set differs from the one reviewed on pull request #42 (reviewed ${other}, now ${current}); review the change again`,
  });
});

test("no review: refused, saying how to make one", () => {
  expect(gateDecision({ ...input, reviewed: undefined })).toEqual({
    allowed: false,
    reason:
      "deploy of stack 'prod' refused: pull request #42 has no review of stack 'prod' by github-actions[bot] (npm run review -- --stack prod --comment)",
  });
});

test("a review of a failed preview: refused", () => {
  expect(gateDecision({ ...input, reviewed: "failed" })).toEqual({
    allowed: false,
    reason: "deploy of stack 'prod' refused: the review of stack 'prod' on pull request #42 is of a failed preview",
  });
});
