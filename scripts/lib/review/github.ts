// The few GitHub REST API calls the review and the deploy make, with Node's fetch: issue comments (every page, by
// the Link header), commits' pull requests, and who the token belongs to.

export interface GitHubOptions {
  /** GITHUB_TOKEN. */
  token: string;
  /** owner/name (GITHUB_REPOSITORY). */
  repository: string;
  /** GITHUB_API_URL; https://api.github.com by default. */
  apiUrl?: string;
}

export interface IssueComment {
  id: number;
  body: string;
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

export class GitHubError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "GitHubError";
  }
}

/** The URL of the `rel="next"` page in a Link header. */
export function nextPageUrl(link: string | null): string | undefined {
  for (const part of (link ?? "").split(",")) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (match) return match[1];
  }
  return undefined;
}

export class GitHub {
  private readonly apiUrl: string;

  constructor(private readonly options: GitHubOptions) {
    this.apiUrl = (options.apiUrl || "https://api.github.com").replace(/\/+$/, "");
    if (!/^[\w.-]+\/[\w.-]+$/.test(options.repository)) {
      throw new Error(`GITHUB_REPOSITORY '${options.repository}' is not owner/name`);
    }
  }

  get repository(): string {
    return this.options.repository;
  }

  private async request(method: string, url: string, body?: unknown): Promise<Response> {
    // The token goes only to the API's own origin, whatever a Link header says.
    if (new URL(url).origin !== new URL(this.apiUrl).origin) {
      throw new Error(`refusing to send the GitHub token to ${new URL(url).origin}`);
    }
    const response = await fetch(url, {
      method,
      headers: {
        accept: "application/vnd.github+json",
        authorization: `Bearer ${this.options.token}`,
        "x-github-api-version": "2022-11-28",
        "user-agent": "dps-enrollments-review",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) {
      const text = await response.text();
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        // not JSON
      }
      const where = url.startsWith(this.apiUrl) ? url.slice(this.apiUrl.length) : url;
      throw new GitHubError(`GitHub API ${method} ${where}: ${response.status} ${message}`.trim(), response.status);
    }
    return response;
  }

  private repoUrl(path: string): string {
    return `${this.apiUrl}/repos/${this.options.repository}${path}`;
  }

  private async allPages<T>(firstUrl: string): Promise<T[]> {
    const items: T[] = [];
    let url: string | undefined = firstUrl;
    while (url) {
      const response = await this.request("GET", url);
      items.push(...((await response.json()) as T[]));
      url = nextPageUrl(response.headers.get("link"));
    }
    return items;
  }

  /** Every comment of an issue or pull request, oldest first. */
  listIssueComments(issue: number): Promise<IssueComment[]> {
    return this.allPages<IssueComment>(this.repoUrl(`/issues/${issue}/comments?per_page=100`));
  }

  async createIssueComment(issue: number, body: string): Promise<IssueComment> {
    return (await (
      await this.request("POST", this.repoUrl(`/issues/${issue}/comments`), { body })
    ).json()) as IssueComment;
  }

  async updateIssueComment(id: number, body: string): Promise<IssueComment> {
    return (await (
      await this.request("PATCH", this.repoUrl(`/issues/comments/${id}`), { body })
    ).json()) as IssueComment;
  }

  async deleteIssueComment(id: number): Promise<void> {
    await this.request("DELETE", this.repoUrl(`/issues/comments/${id}`));
  }

  /** The pull requests a commit belongs to (merged ones included). */
  pullRequestsOfCommit(sha: string): Promise<PullRequest[]> {
    return this.allPages<PullRequest>(this.repoUrl(`/commits/${encodeURIComponent(sha)}/pulls?per_page=100`));
  }

  /** The token's user, or undefined for tokens that have none (a workflow's GITHUB_TOKEN is an app installation). */
  async authenticatedLogin(): Promise<string | undefined> {
    try {
      const response = await this.request("GET", `${this.apiUrl}/user`);
      return ((await response.json()) as { login?: string }).login;
    } catch (err) {
      if (err instanceof GitHubError && [401, 403, 404].includes(err.status)) return undefined;
      throw err;
    }
  }
}
