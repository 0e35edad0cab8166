// A local HTTP stand-in of the GitHub REST API calls the workflow scripts, the review and the deploy make: open pull
// requests by head, a commit's pull requests, a pull request's issue comments (paged like GitHub: per_page, page, a
// Link header with rel="next"), creating, editing and deleting comments, and `GET /user` (403 for an app
// installation token such as a workflow's GITHUB_TOKEN). It checks the bearer token, answers unknown routes with 404
// and records every request.
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
  /** The pull requests `GET /repos/{repo}/commits/{sha}/pulls` lists, by commit SHA. */
  commitPulls: Map<string, { number: number; merge_commit_sha: string; merged_at: string }[]>;
  requests: RecordedRequest[];
  /** The pull request with this number, added (open, on a branch of the repository) when there is none. */
  pull(number: number): StandInPull;
  addComment(pull: StandInPull, body: string, login?: string): StandInComment;
  close(): Promise<void>;
}

export interface StandInOptions {
  /** More tokens: a personal token has a user (`GET /user` answers), an installation token has none. */
  tokens?: Record<string, { login: string; installation: boolean }>;
  /** Fewer comments per page than GitHub's 100, to page with few comments. */
  perPage?: number;
}

function page<T>(items: T[], url: URL, base: string, maxPerPage = 100): { items: T[]; link?: string } {
  const perPage = Math.min(Number(url.searchParams.get("per_page") ?? "30"), maxPerPage);
  const pageNumber = Number(url.searchParams.get("page") ?? "1");
  const start = (pageNumber - 1) * perPage;
  const next = new URL(url.pathname + url.search, base);
  next.searchParams.set("page", String(pageNumber + 1));
  return {
    items: items.slice(start, start + perPage),
    link: start + perPage < items.length ? `<${next.toString()}>; rel="next"` : undefined,
  };
}

export async function startGitHubStandIn(repository: string, options: StandInOptions = {}): Promise<GitHubStandIn> {
  const token = "ghs_standInTokenForTests";
  const bot = "github-actions[bot]";
  const tokens: Record<string, { login: string; installation: boolean }> = {
    [token]: { login: bot, installation: true },
    ...options.tokens,
  };
  const pulls: StandInPull[] = [];
  const commitPulls = new Map<string, { number: number; merge_commit_sha: string; merged_at: string }[]>();
  const requests: RecordedRequest[] = [];
  let nextId = 1000;
  // Comment times, answered beside the stored comments: one second apart, in the order of writes.
  const times = new Map<number, { created_at: string; updated_at: string }>();
  let clock = Date.parse("2026-01-01T00:00:00Z");
  const tick = (): string => new Date((clock += 1000)).toISOString();
  const withTimes = (c: StandInComment): StandInComment & { created_at?: string; updated_at?: string } => ({
    ...c,
    ...times.get(c.id),
  });
  const addComment = (pull: StandInPull, body: string, login = bot): StandInComment => {
    const comment = { id: nextId++, body, user: { login } };
    pull.comments.push(comment);
    const at = tick();
    times.set(comment.id, { created_at: at, updated_at: at });
    return comment;
  };
  const pull = (number: number): StandInPull => {
    let found = pulls.find((p) => p.number === number);
    if (!found) {
      const owner = repository.split("/")[0];
      found = {
        number,
        state: "open",
        head: {
          sha: "0".repeat(40),
          ref: `feature-${number}`,
          repo: { full_name: repository, owner: { login: owner } },
        },
        comments: [],
      };
      pulls.push(found);
    }
    return found;
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
      const user = tokens[/^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? ""];
      if (!user) return reply(401, { message: "Bad credentials" });
      if (req.method === "GET" && url.pathname === "/user") {
        return user.installation
          ? reply(403, { message: "Resource not accessible by integration" })
          : reply(200, { login: user.login });
      }

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
          const { items, link } = page(pull.comments, url, base, options.perPage);
          return reply(200, items.map(withTimes), link);
        }
        if (req.method === "POST" && typeof body?.body === "string") {
          return reply(201, withTimes(addComment(pull, body.body, user.login)));
        }
      }
      if ((match = /^\/issues\/comments\/(\d+)$/.exec(route)) && (req.method === "PATCH" || req.method === "DELETE")) {
        const owner = pulls.find((p) => p.comments.some((c) => c.id === Number(match?.[1])));
        const comment = owner?.comments.find((c) => c.id === Number(match?.[1]));
        if (!owner || !comment) return reply(404, { message: "Not Found" });
        // GitHub lets a token edit only its own comments.
        if (comment.user.login !== user.login) return reply(403, { message: "Resource not accessible by integration" });
        if (req.method === "DELETE") {
          owner.comments.splice(owner.comments.indexOf(comment), 1);
          res.writeHead(204);
          return res.end();
        }
        if (typeof body?.body === "string") comment.body = body.body;
        times.set(comment.id, { created_at: times.get(comment.id)!.created_at, updated_at: tick() });
        return reply(200, withTimes(comment));
      }
      if (req.method === "GET" && (match = /^\/commits\/([0-9a-f]+)\/pulls$/.exec(route))) {
        return reply(200, commitPulls.get(match[1]) ?? []);
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
    commitPulls,
    requests,
    pull,
    addComment,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
