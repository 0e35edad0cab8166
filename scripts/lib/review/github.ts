// The GitHub calls of the review and the deploy, over the project's REST client (scripts/lib/github-rest.ts):
// a pull request's comments, comment writes, a commit's pull requests, and who the token belongs to.
import { GitHubApiError, gitHubRest, type GitHubRest } from "../github-rest";

export interface IssueComment {
  id: number;
  body?: string;
  user: { login: string } | null;
  created_at?: string;
  updated_at?: string;
}

export interface PullRequest {
  number: number;
  state?: string;
  merged_at?: string | null;
  merge_commit_sha?: string | null;
}

export class GitHub {
  constructor(
    private readonly api: GitHubRest,
    /** owner/name */
    readonly repository: string,
  ) {
    if (!/^[\w.-]+\/[\w.-]+$/.test(repository)) {
      throw new Error(`GITHUB_REPOSITORY '${repository}' is not owner/name`);
    }
  }

  /** From GITHUB_TOKEN, GITHUB_REPOSITORY and GITHUB_API_URL (https://api.github.com by default). */
  static connect(options: { token: string; repository: string; apiUrl?: string }): GitHub {
    return new GitHub(gitHubRest(options.token, options.apiUrl || undefined), options.repository);
  }

  private path(rest: string): string {
    return `/repos/${this.repository}${rest}`;
  }

  /** Every comment of an issue or pull request, oldest first. */
  listIssueComments(issue: number): Promise<IssueComment[]> {
    return this.api.list<IssueComment>(this.path(`/issues/${issue}/comments?per_page=100`));
  }

  createIssueComment(issue: number, body: string): Promise<IssueComment> {
    return this.api.send<IssueComment>("POST", this.path(`/issues/${issue}/comments`), { body });
  }

  updateIssueComment(id: number, body: string): Promise<IssueComment> {
    return this.api.send<IssueComment>("PATCH", this.path(`/issues/comments/${id}`), { body });
  }

  deleteIssueComment(id: number): Promise<void> {
    return this.api.delete(this.path(`/issues/comments/${id}`));
  }

  /** The pull requests a commit belongs to (merged ones included). */
  pullRequestsOfCommit(sha: string): Promise<PullRequest[]> {
    return this.api.list<PullRequest>(this.path(`/commits/${encodeURIComponent(sha)}/pulls?per_page=100`));
  }

  /** The token's user, or undefined for tokens that have none (a workflow's GITHUB_TOKEN is an app installation). */
  async authenticatedLogin(): Promise<string | undefined> {
    try {
      return (await this.api.get<{ login?: string }>("/user")).login;
    } catch (err) {
      if (err instanceof GitHubApiError && [401, 403, 404].includes(err.status)) return undefined;
      throw err;
    }
  }
}
