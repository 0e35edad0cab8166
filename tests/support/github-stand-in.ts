// A local HTTP stand-in of the GitHub REST API calls the workflow scripts make: open pull requests by head, a pull
// request's issue comments (paged like GitHub: per_page, page, a Link header with rel="next"), creating and editing
// comments. It checks the bearer token, answers unknown routes with 404 and records every request.
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface StandInComment {
  id: number;
  body: string;
  user: { login: string };
}

export interface StandInPull {
  number: number;
  state: "open" | "closed";
  head: { sha: string; ref: string; repo: { full_name: string; owner: { login: string } } };
  comments: StandInComment[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  body?: unknown;
}

export interface GitHubStandIn {
  url: string;
  token: string;
  /** The only login the token comments as. */
  bot: string;
  pulls: StandInPull[];
  requests: RecordedRequest[];
  addComment(pull: StandInPull, body: string, login?: string): StandInComment;
  close(): Promise<void>;
}

function page<T>(items: T[], url: URL, base: string): { items: T[]; link?: string } {
  const perPage = Math.min(Number(url.searchParams.get("per_page") ?? "30"), 100);
  const pageNumber = Number(url.searchParams.get("page") ?? "1");
  const start = (pageNumber - 1) * perPage;
  const next = new URL(url.pathname + url.search, base);
  next.searchParams.set("page", String(pageNumber + 1));
  return {
    items: items.slice(start, start + perPage),
    link: start + perPage < items.length ? `<${next.toString()}>; rel="next"` : undefined,
  };
}

export async function startGitHubStandIn(repository: string): Promise<GitHubStandIn> {
  const token = "ghs_standInTokenForTests";
  const bot = "github-actions[bot]";
  const pulls: StandInPull[] = [];
  const requests: RecordedRequest[] = [];
  let nextId = 1000;
  const addComment = (pull: StandInPull, body: string, login = bot): StandInComment => {
    const comment = { id: nextId++, body, user: { login } };
    pull.comments.push(comment);
    return comment;
  };

  const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk: Buffer) => (raw += chunk.toString()));
    req.on("end", () => {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const url = new URL(req.url ?? "/", base);
      const body = raw ? (JSON.parse(raw) as { body?: string }) : undefined;
      requests.push({ method: req.method ?? "", path: url.pathname + url.search, body });
      const reply = (status: number, payload: unknown, link?: string): void => {
        res.writeHead(status, { "content-type": "application/json", ...(link ? { link } : {}) });
        res.end(JSON.stringify(payload));
      };
      if (req.headers.authorization !== `Bearer ${token}`) return reply(401, { message: "Bad credentials" });

      const prefix = `/repos/${repository}`;
      const route = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : "";
      let match: RegExpExecArray | null;
      if (req.method === "GET" && route === "/pulls") {
        const head = url.searchParams.get("head");
        const state = url.searchParams.get("state") ?? "open";
        const listed = pulls.filter(
          (p) =>
            (state === "all" || p.state === state) && (!head || `${p.head.repo.owner.login}:${p.head.ref}` === head),
        );
        const { items, link } = page(listed, url, base);
        return reply(
          200,
          items.map(({ comments: _comments, ...p }) => p),
          link,
        );
      }
      if ((match = /^\/issues\/(\d+)\/comments$/.exec(route))) {
        const pull = pulls.find((p) => p.number === Number(match?.[1]));
        if (!pull) return reply(404, { message: "Not Found" });
        if (req.method === "GET") {
          const { items, link } = page(pull.comments, url, base);
          return reply(200, items, link);
        }
        if (req.method === "POST" && typeof body?.body === "string") return reply(201, addComment(pull, body.body));
      }
      if (req.method === "PATCH" && (match = /^\/issues\/comments\/(\d+)$/.exec(route))) {
        const comment = pulls.flatMap((p) => p.comments).find((c) => c.id === Number(match?.[1]));
        if (!comment) return reply(404, { message: "Not Found" });
        // GitHub lets a token edit only its own comments.
        if (comment.user.login !== bot) return reply(403, { message: "Resource not accessible by integration" });
        if (typeof body?.body === "string") comment.body = body.body;
        return reply(200, comment);
      }
      return reply(404, { message: "Not Found" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    token,
    bot,
    pulls,
    requests,
    addComment,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
