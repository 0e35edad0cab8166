// A local Microsoft Entra ID token issuer for tests, reached by @azure/identity unmodified, without internet.
//
// Why the App Service managed identity endpoint: DefaultAzureCredential tries ManagedIdentityCredential on its own,
// and with `IDENTITY_ENDPOINT` + `IDENTITY_HEADER` set, MSAL's App Service source sends one plain GET to that URL
// (`?api-version=2019-08-01&resource=…[&client_id=…]`, header `X-IDENTITY-HEADER`). On App Service that URL *is* a
// local HTTP endpoint, so this is real usage, not a bend of it. The alternatives are worse: EnvironmentCredential
// with AZURE_AUTHORITY_HOST makes MSAL run instance and OpenID discovery against an HTTPS authority before any
// token, and AzureCliCredential would need a fake `az` on PATH that is not how the provider runs in CI.
//
// Tokens are v1 access tokens as Entra issues them for a managed identity: RS256, `aud` = the requested resource,
// `oid`/`sub` = the identity's object ID, `appid` = its client ID. A user-assigned identity is picked by
// `client_id` (DefaultAzureCredential sends AZURE_CLIENT_ID); MSAL caches tokens per client ID for the whole
// process, so tests that need different tokens use different identities.
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";

export interface TestIdentity {
  clientId: string;
  objectId: string;
  /** Issue tokens for this audience whatever resource is asked for (a token meant for another service). */
  audience?: string;
  /** Token lifetime; negative gives expired tokens. Default one hour. */
  lifetimeSeconds?: number;
}

export interface TokenRequest {
  resource: string | null;
  clientId: string | null;
  apiVersion: string | null;
}

export interface TokenServer {
  /** `iss` of every token; what the emulator's --entra-issuer trusts. */
  issuer: string;
  /** The issuer's public signing key (PEM file), for --entra-key. */
  keyFile: string;
  /** Environment that makes ManagedIdentityCredential (and so DefaultAzureCredential) use this server. */
  env: { IDENTITY_ENDPOINT: string; IDENTITY_HEADER: string };
  /** Every token request received, in order. */
  requests: TokenRequest[];
  /** A token signed by this issuer with exactly these claims (for direct tests of the emulator). */
  sign(claims: Record<string, unknown>, header?: Record<string, unknown>): string;
  close(): Promise<void>;
}

export function signJwt(claims: Record<string, unknown>, key: KeyObject, header: Record<string, unknown>): string {
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");
  const data = `${encode(header)}.${encode(claims)}`;
  return `${data}.${sign("sha256", Buffer.from(data), key).toString("base64url")}`;
}

export async function startTokenServer(identities: readonly TestIdentity[]): Promise<TokenServer> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "entra-issuer-"));
  const keyFile = path.join(dir, "issuer-public-key.pem");
  fs.writeFileSync(keyFile, publicKey.export({ type: "spki", format: "pem" }));
  const secret = randomUUID();
  const tenantId = randomUUID();
  const kid = randomUUID();
  const requests: TokenRequest[] = [];
  let issuer = "";

  const reply = (res: http.ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://token-server");
    if (req.method !== "GET" || url.pathname !== "/msi/token") {
      reply(res, 404, { statusCode: 404, message: "not found" });
      return;
    }
    const request: TokenRequest = {
      resource: url.searchParams.get("resource"),
      clientId: url.searchParams.get("client_id"),
      apiVersion: url.searchParams.get("api-version"),
    };
    requests.push(request);
    if (req.headers["x-identity-header"] !== secret) {
      reply(res, 401, { statusCode: 401, message: "X-IDENTITY-HEADER is missing or wrong" });
      return;
    }
    const identity = identities.find((i) => i.clientId === request.clientId);
    if (!identity || !request.resource) {
      reply(res, 400, {
        statusCode: 400,
        message: "No Managed Identity found for specified ClientId/ResourceId/PrincipalId.",
      });
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const exp = now + (identity.lifetimeSeconds ?? 3600);
    const resource = request.resource.replace(/\/\.default$/, "");
    const token = signJwt(
      {
        aud: identity.audience ?? resource,
        iss: issuer,
        iat: now,
        nbf: now,
        exp,
        appid: identity.clientId,
        oid: identity.objectId,
        sub: identity.objectId,
        tid: tenantId,
        idtyp: "app",
        ver: "1.0",
      },
      privateKey,
      { alg: "RS256", typ: "JWT", kid },
    );
    // App Service answers expires_on as a string of epoch seconds.
    reply(res, 200, {
      access_token: token,
      expires_on: String(exp),
      resource,
      token_type: "Bearer",
      client_id: identity.clientId,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  issuer = `${origin}/${tenantId}/`;

  return {
    issuer,
    keyFile,
    env: { IDENTITY_ENDPOINT: `${origin}/msi/token`, IDENTITY_HEADER: secret },
    requests,
    sign: (claims, header = { alg: "RS256", typ: "JWT", kid }) => signJwt(claims, privateKey, header),
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
