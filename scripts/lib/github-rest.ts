// The few GitHub REST calls the workflows' own scripts make, over Node's fetch: JSON in and out, every page of a
// list (the Link header's rel="next"), and errors that name the call and GitHub's message.

export interface GitHubRest {
  get<T>(path: string): Promise<T>;
  /** Every item of a paged list, following rel="next" until the last page. */
  list<T>(path: string): Promise<T[]>;
  send<T>(method: "POST" | "PATCH", path: string, body: unknown): Promise<T>;
  delete(path: string): Promise<void>;
}

/** A call GitHub refused: the message names the call and GitHub's message; `status` is the HTTP status. */
export class GitHubApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "GitHubApiError";
  }
}

/** `GITHUB_API_URL` is set on every GitHub runner (and differs on GitHub Enterprise Server). */
export function gitHubRest(token: string, apiUrl = "https://api.github.com"): GitHubRest {
  const base = apiUrl.replace(/\/+$/, "");

  async function call(method: string, url: string, body?: unknown): Promise<Response> {
    const response = await fetch(url, {
      method,
      headers: {
        accept: "application/vnd.github+json",
        authorization: `Bearer ${token}`,
        "x-github-api-version": "2022-11-28",
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
        // not JSON: the text as it came
      }
      throw new GitHubApiError(
        `GitHub API ${method} ${url.slice(base.length)} answered ${response.status}: ${message}`,
        response.status,
      );
    }
    return response;
  }

  return {
    get: async <T>(path: string) => (await (await call("GET", base + path)).json()) as T,
    list: async <T>(path: string) => {
      const items: T[] = [];
      let url: string | undefined = base + path;
      while (url) {
        const response = await call("GET", url);
        items.push(...((await response.json()) as T[]));
        url = nextPage(response.headers.get("link"));
        // The token goes with every request: never to a host other than the API's.
        if (url !== undefined && !url.startsWith(`${base}/`)) {
          throw new Error(`GitHub API ${path}: refusing a next page outside ${base}: ${url}`);
        }
      }
      return items;
    },
    send: async <T>(method: "POST" | "PATCH", path: string, body: unknown) =>
      (await (await call(method, base + path, body)).json()) as T,
    delete: async (path: string) => {
      await (await call("DELETE", base + path)).arrayBuffer();
    },
  };
}

/** The rel="next" URL of a Link header, if any. */
export function nextPage(link: string | null): string | undefined {
  for (const part of (link ?? "").split(",")) {
    const match = /<([^>]+)>\s*;\s*rel="next"/.exec(part);
    if (match) return match[1];
  }
  return undefined;
}
