// Drives Qlik's @qlik/api (npm) for tests/interop/test_qlik_api.py.
//
// Uses the library as a server-side Node application would, against the
// live server, and reports what it saw; the test asserts. `make test`
// installs it here with `npm ci` (package-lock.json).
//
// Protocol, one JSON object per line (as tests/interop/drivers/qlik_sdk_driver.py):
// - stdin, first line: {"scenario": ..., "host": ..., "clientId": ..., ...};
// - stdout {"sign_in": <authorization URL>} when the user must sign in; the
//   test answers on stdin with {"callback": <the URL the browser was sent back to>};
// - stdout, last line: {"result": {...}} or {"error": ...} (exit status 1).
//   Either carries `exchanges`: every HTTP request the library made, as sent,
//   with the status and body of the answer.

import dns from "node:dns";
import { createInterface } from "node:readline";

// stdout carries the protocol: anything the library logs goes to stderr.
console.log = console.info = console.debug = console.error;

// Node's fetch resolves names with dns.lookup (getaddrinfo), which here does
// not resolve *.localhost to loopback as RFC 6761 §6.3 asks (browsers do).
// Send those names to 127.0.0.1; the URL, and so the Host header, keeps the
// tenant's name.
const realLookup = dns.lookup;
dns.lookup = (hostname, options, callback) => {
  const name = hostname.replace(/\.$/, "").toLowerCase();
  return realLookup(name.endsWith(".localhost") ? "127.0.0.1" : hostname, options, callback);
};

// Keep every request the library makes, and the answer (before it reads it).
const exchanges = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (url, init = {}) => {
  const response = await realFetch(url, init);
  exchanges.push({
    method: init.method ?? "GET",
    url: String(url),
    headers: Object.fromEntries(new Headers(init.headers)),
    body: typeof init.body === "string" ? init.body : null,
    status: response.status,
    response: await response.clone().text(),
  });
  return response;
};

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

function send(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

async function receive() {
  const { value } = await lines.next();
  return JSON.parse(value);
}

// Imported after fetch is wrapped, so that every request is seen.
const { auth, createQlikApi, users, oauthClients } = await import("@qlik/api");

// A machine-to-machine client for every call without a host config of its
// own: @qlik/api gets the token with client credentials.
function useMachineClient(args, scope) {
  auth.setDefaultHostConfig({
    authType: "oauth2",
    host: args.host,
    clientId: args.clientId,
    clientSecret: args.clientSecret,
    scope,
  });
}

const scenarios = {
  // Machine-to-machine: GET /api/v1/users/me.
  async clientCredentials(args) {
    useMachineClient(args, args.scope);
    const me = await users.getMyUser();
    return { status: me.status, me: me.data };
  },

  // The management API with a machine-to-machine client holding admin_classic:
  // list the tenant's OAuth clients a page at a time, following `next`.
  async listOAuthClients(args) {
    useMachineClient(args, "admin_classic");
    const pages = [];
    let page = await oauthClients.getOAuthClients({ limit: args.limit, sort: "clientName" });
    pages.push(page.data);
    while (page.next) {
      page = await page.next();
      pages.push(page.data);
    }
    return { pages };
  },

  // The management API through the library's own functions, one client from
  // creation to deletion. Each call's status and data are reported.
  async manageOAuthClient(args) {
    useMachineClient(args, "admin_classic");
    const calls = {};
    const call = async (name, promise) => {
      const { status, data } = await promise;
      calls[name] = { status, data };
      return data;
    };
    const created = await call("create", oauthClients.createOAuthClient(args.client));
    const id = created.clientId;
    await call("get", oauthClients.getOAuthClient(id));
    const rename = [{ op: "replace", path: "/clientName", value: args.newName }];
    await call("rename", oauthClients.patchOAuthClient(id, rename));
    await call("getRenamed", oauthClients.getOAuthClient(id, { noCache: true }));
    const secret = await call("addSecret", oauthClients.createOAuthClientSecret(id));
    await call("deleteSecret", oauthClients.deleteOAuthClientSecret(id, secret.hint));
    await call("getConnection", oauthClients.getOAuthClientConnectionConfig(id));
    const trust = [{ op: "replace", path: "/consentMethod", value: "trusted" }];
    await call("trust", oauthClients.patchOAuthClientConnectionConfig(id, trust));
    await call("publish", oauthClients.publishOAuthClient(id));
    await call("delete", oauthClients.deleteOAuthClient(id));
    return calls;
  },

  // A user signs in through an application (a public client, or one with a
  // secret): @qlik/api's performInteractiveLogin hook hands over the
  // authorization URL and takes back the callback URL; then
  // GET /api/v1/users/me with the token it got.
  async interactiveLogin(args) {
    const api = createQlikApi({
      hostConfig: {
        authType: "oauth2",
        host: args.host,
        clientId: args.clientId,
        clientSecret: args.clientSecret,
        scope: args.scope,
        performInteractiveLogin: async ({ getLoginUrl }) => {
          send({ sign_in: await getLoginUrl({ redirectUri: args.redirectUri }) });
          return (await receive()).callback;
        },
      },
    });
    const me = await api.users.getMyUser();
    return { status: me.status, me: me.data };
  },
};

const args = await receive();
try {
  const result = await scenarios[args.scenario](args);
  send({ result, exchanges });
} catch (error) {
  console.error(error);
  send({ error: String(error), exchanges });
  process.exitCode = 1;
}
process.exit();
