// A local stand-in of the GitHub REST API, as real HTTP on 127.0.0.1: issue comments (paged like GitHub, with a
// Link header), comment edits and deletes, a commit's pull requests, and `GET /user` (403 for an app installation
// token, as for a workflow's GITHUB_TOKEN). It records every request, so tests can see what was written.
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface StoredComment {
  id: number;
  issue: number;
  body: string;
  login: string;
  created_at: string;
  updated_at: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  login?: string;
}

export interface GitHubStandIn {
  url: string;
  repository: string;
  comments: StoredComment[];
  requests: RecordedRequest[];
  /** Pull requests per commit SHA. */
  commitPulls: Map<string, { number: number; merge_commit_sha: string; merged_at: string }[]>;
  /** Adds a comment as if `login` had written it. */
  addComment(issue: number, login: string, body: string): StoredComment;
  /** Requests that change something. */
  writes(): RecordedRequest[];
  close(): Promise<void>;
}

export interface Token {
  login: string;
  /** App installation tokens (GITHUB_TOKEN) have no user: GET /user is 403. */
  installation: boolean;
}

export async function startGitHubStandIn(options: {
  repository?: string;
  tokens: Record<string, Token>;
  perPage?: number;
}): Promise<GitHubStandIn> {
  const repository = options.repository ?? "octo-org/dps-enrollments";
  const comments: StoredComment[] = [];
  const requests: RecordedRequest[] = [];
  const commitPulls = new Map<string, { number: number; merge_commit_sha: string; merged_at: string }[]>();
  let nextId = 1000;
  let clock = Date.parse("2026-01-01T00:00:00Z");
  const now = (): string => new Date((clock += 1000)).toISOString();
  const addComment = (issue: number, login: string, body: string): StoredComment => {
    const at = now();
    const comment = { id: nextId++, issue, body, login, created_at: at, updated_at: at };
    comments.push(comment);
    return comment;
  };
  const view = (c: StoredComment): object => ({
    id: c.id,
    body: c.body,
    user: { login: c.login, type: c.login.endsWith("[bot]") ? "Bot" : "User" },
    created_at: c.created_at,
    updated_at: c.updated_at,
  });

  const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk: Buffer) => (raw += chunk.toString()));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://stand-in");
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
      const user = token ? options.tokens[token] : undefined;
      requests.push({ method: req.method ?? "", path: url.pathname + url.search, login: user?.login });
      const send = (status: number, body?: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { "content-type": "application/json", ...headers });
        res.end(body === undefined ? undefined : JSON.stringify(body));
      };
      if (!user) return send(401, { message: "Bad credentials" });
      const repo = `/repos/${repository}`;
      const issueComments = new RegExp(`^${repo}/issues/(\\d+)/comments$`).exec(url.pathname);
      const oneComment = new RegExp(`^${repo}/issues/comments/(\\d+)$`).exec(url.pathname);
      const pulls = new RegExp(`^${repo}/commits/([0-9a-f]+)/pulls$`).exec(url.pathname);
      if (url.pathname === "/user" && req.method === "GET") {
        return user.installation
          ? send(403, { message: "Resource not accessible by integration" })
          : send(200, { login: user.login });
      }
      if (issueComments && req.method === "GET") {
        const issue = Number(issueComments[1]);
        const perPage = Math.min(Number(url.searchParams.get("per_page") ?? 30), options.perPage ?? 100);
        const page = Number(url.searchParams.get("page") ?? 1);
        const all = comments.filter((c) => c.issue === issue);
        const last = Math.max(1, Math.ceil(all.length / perPage));
        const link = (p: number, rel: string): string =>
          `<http://${req.headers.host}${url.pathname}?per_page=${perPage}&page=${p}>; rel="${rel}"`;
        const links = [
          ...(page < last ? [link(page + 1, "next"), link(last, "last")] : []),
          ...(page > 1 ? [link(1, "first"), link(page - 1, "prev")] : []),
        ];
        return send(
          200,
          all.slice((page - 1) * perPage, page * perPage).map(view),
          links.length > 0 ? { link: links.join(", ") } : {},
        );
      }
      if (issueComments && req.method === "POST") {
        const body = (JSON.parse(raw) as { body: string }).body;
        return send(201, view(addComment(Number(issueComments[1]), user.login, body)));
      }
      if (oneComment) {
        const comment = comments.find((c) => c.id === Number(oneComment[1]));
        if (!comment) return send(404, { message: "Not Found" });
        if (comment.login !== user.login) return send(403, { message: "Must have admin rights to Repository." });
        if (req.method === "PATCH") {
          comment.body = (JSON.parse(raw) as { body: string }).body;
          comment.updated_at = now();
          return send(200, view(comment));
        }
        if (req.method === "DELETE") {
          comments.splice(comments.indexOf(comment), 1);
          return send(204);
        }
      }
      if (pulls && req.method === "GET") return send(200, commitPulls.get(pulls[1]) ?? []);
      return send(404, { message: "Not Found" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    repository,
    comments,
    requests,
    commitPulls,
    addComment,
    writes: () => requests.filter((r) => r.method !== "GET"),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
