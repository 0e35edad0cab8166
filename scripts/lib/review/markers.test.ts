import {
  fingerprintMarker,
  isReviewOf,
  readFingerprints,
  reviewMarker,
  stackSet,
  type ReviewedChangeSet,
} from "./markers";

const fingerprint = `sha256:${"ab".repeat(32)}`;

test("the stack set is sorted and without repeats, so flag order never makes a second comment", () => {
  expect(stackSet(["prod", "dev", "prod"])).toEqual(["dev", "prod"]);
  expect(reviewMarker("dps-enrollments", ["prod", "dev"])).toBe(
    "<!-- dps-enrollments-review: dps-enrollments dev prod -->",
  );
});

test("isReviewOf: the marker is the comment's first line", () => {
  const marker = reviewMarker("p", ["local"]);
  expect(isReviewOf(`${marker}\nbody`, marker)).toBe(true);
  expect(isReviewOf(`quote:\n${marker}\nbody`, marker)).toBe(false);
  expect(isReviewOf(`${reviewMarker("p", ["dev", "local"])}\nbody`, marker)).toBe(false);
});

test("readFingerprints: this project's markers only, failed or a sha256", () => {
  const body = [
    reviewMarker("p", ["dev", "prod"]),
    fingerprintMarker("p", "dev", { fingerprint }),
    fingerprintMarker("p", "prod", "failed"),
    fingerprintMarker("other", "staging", { fingerprint }),
    "<!-- dps-enrollments-fingerprint: p qa sha256:short -->",
    `text <!-- dps-enrollments-fingerprint: p inline ${fingerprint} -->`,
  ].join("\n");
  expect(readFingerprints(body, "p")).toEqual(
    new Map<string, ReviewedChangeSet>([
      ["dev", { fingerprint }],
      ["prod", "failed"],
    ]),
  );
});
