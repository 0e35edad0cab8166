import { nextPage } from "./github-rest";
import { isReviewMarker, pullRequestOfRun, reportProblem, type PullRequest, type WorkflowRun } from "./review-artifact";

const marker = "<!-- dps-enrollments-review: dps-enrollments local -->";
const run: WorkflowRun = {
  id: 1,
  event: "pull_request",
  conclusion: "success",
  head_sha: "f".repeat(40),
  head_branch: "feature",
  html_url: "https://github.com/o/r/actions/runs/1",
  head_repository: { full_name: "fork/r", owner: { login: "fork" } },
};

function pr(number: number, overrides: Partial<PullRequest> = {}): PullRequest {
  return { number, state: "open", head: { sha: run.head_sha, repo: { full_name: "fork/r" } }, ...overrides };
}

test("a review marker is exactly the hidden comment the review command writes", () => {
  expect(isReviewMarker(marker)).toBe(true);
  expect(isReviewMarker("<!-- dps-enrollments-review: dps-enrollments dev prod -->")).toBe(true);
  expect(isReviewMarker(`${marker}\n`)).toBe(false);
  expect(isReviewMarker("<!-- other-tool: local -->")).toBe(false);
  expect(isReviewMarker("<!-- dps-enrollments-review: a --> <!-- b -->")).toBe(false);
});

test("a report must carry its own marker and no other", () => {
  expect(reportProblem(`${marker}\nno changes`, marker)).toBeUndefined();
  expect(reportProblem(undefined, marker)).toBe("The review run wrote no report");
  expect(reportProblem(`${marker}${marker}`, marker)).toBeUndefined();
  expect(reportProblem(`${marker}<!-- dps-enrollments-review: x dev -->`, marker)).toBe(
    "The report carries the marker of another review",
  );
});

test("the run's pull request: open, the run's head commit, from the run's head repository", () => {
  expect(pullRequestOfRun([pr(1, { state: "closed" }), pr(2)], run)).toBe(2);
  expect(pullRequestOfRun([pr(3, { head: { sha: run.head_sha, repo: { full_name: "other/r" } } })], run)).toBe(
    undefined,
  );
  expect(pullRequestOfRun([pr(4, { head: { sha: "0".repeat(40), repo: { full_name: "fork/r" } } })], run)).toBe(
    undefined,
  );
  expect(() => pullRequestOfRun([pr(5), pr(6)], run)).toThrow(
    `pull requests #5, #6 all have head ${run.head_sha}: cannot tell which one the run reviewed`,
  );
});

test("the next page comes from the Link header's rel=next only", () => {
  expect(
    nextPage(
      '<https://api.github.com/x?page=3>; rel="next", <https://api.github.com/x?page=9>; rel="last", ' +
        '<https://api.github.com/x?page=1>; rel="first"',
    ),
  ).toBe("https://api.github.com/x?page=3");
  expect(nextPage('<https://api.github.com/x?page=1>; rel="prev"')).toBeUndefined();
  expect(nextPage(null)).toBeUndefined();
});
