import { GitHub, nextPageUrl } from "./github";

test("nextPageUrl reads rel=next from a Link header", () => {
  expect(
    nextPageUrl(
      '<https://api.github.com/repositories/1/issues/2/comments?page=3>; rel="next", <https://api.github.com/repositories/1/issues/2/comments?page=5>; rel="last"',
    ),
  ).toBe("https://api.github.com/repositories/1/issues/2/comments?page=3");
  expect(nextPageUrl('<https://x/?page=1>; rel="prev"')).toBeUndefined();
  expect(nextPageUrl(null)).toBeUndefined();
});

test("a repository must be owner/name", () => {
  expect(() => new GitHub({ token: "t", repository: "no-slash" })).toThrow(
    "GITHUB_REPOSITORY 'no-slash' is not owner/name",
  );
});
