// A real OpenID Provider (the npm package oidc-provider) for mcpauth's Go
// tests. Started by internal/optest/nodeop (Go); not for production use.
//
// stdout carries exactly one line, "READY <issuer>", once the server listens.
// Everything else (oidc-provider notices included) goes to stderr.
//
// Environment:
//   PORT                 port on 127.0.0.1 (default 0 = pick a free one)
//   ISSUER_PATH          "" or a path such as "/tenant-a": the issuer becomes
//                        http://127.0.0.1:PORT/tenant-a and the provider is
//                        mounted under that path
//   DEVICE_CODE_TTL      device_code lifetime in seconds (default 600)
//   ACCESS_TOKEN_TTL     access token lifetime in seconds (default 3600)
//   EXTRA_REDIRECT_URIS  space or comma separated redirect URIs to register
//                        for the client besides http://127.0.0.1/callback
//   ISSUE_REFRESH_TOKEN  "0": never issue refresh tokens (default: always,
//                        with or without offline_access)
//   RESOURCE_SCOPES      scopes a resource server (RFC 8707 resource
//                        parameter) accepts (default "mcp:tools mcp:read mcp:write")
//
// Besides the provider's own endpoints the server answers, at its root:
//   GET /.well-known/oauth-authorization-server<ISSUER_PATH>  (RFC 8414 path insertion)
//   GET /.well-known/openid-configuration<ISSUER_PATH>        (the same insertion for OIDC discovery)
//   GET /__test/requests  JSON object: request path (no query) -> count, for
//                         every request except those under /__test/
import * as http from 'node:http';
import { createRequire } from 'node:module';
import * as path from 'node:path';

// oidc-provider prints its notices with console.info, which writes to stdout;
// stdout is reserved for the READY line.
console.log = console.error;
console.info = console.error;
console.debug = console.error;

// Resolve oidc-provider from the repo root's node_modules (cwd is the repo
// root when started by the Go helper; NODE_PATH does not apply to ESM).
const requireFromRoot = createRequire(path.join(process.cwd(), 'package.json'));
const { default: Provider } = await import(requireFromRoot.resolve('oidc-provider'));

function seconds(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) {
    throw new Error(`${name} must be a positive integer number of seconds, got ${JSON.stringify(raw)}`);
  }
  return n;
}

let issuerPath = process.env.ISSUER_PATH || '';
if (issuerPath !== '') {
  if (!issuerPath.startsWith('/')) issuerPath = `/${issuerPath}`;
  issuerPath = issuerPath.replace(/\/+$/, '');
}
const port = Number(process.env.PORT || 0);
const deviceCodeTTL = seconds('DEVICE_CODE_TTL', 10 * 60);
const accessTokenTTL = seconds('ACCESS_TOKEN_TTL', 60 * 60);
const issueRefreshTokens = process.env.ISSUE_REFRESH_TOKEN !== '0';
const extraRedirectURIs = (process.env.EXTRA_REDIRECT_URIS || '')
  .split(/[\s,]+/).filter(Boolean);

const counts = new Map();
let handler = null;

const server = http.createServer((req, res) => {
  const { pathname } = new URL(req.url, 'http://127.0.0.1');

  if (pathname.startsWith('/__test/')) {
    if (req.method === 'GET' && pathname === '/__test/requests') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(Object.fromEntries(counts)));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
    return;
  }

  counts.set(pathname, (counts.get(pathname) || 0) + 1);

  if (issuerPath === '') {
    handler(req, res);
    return;
  }

  // RFC 8414 section 3.1: the well-known suffix is inserted between the host
  // and the issuer's path. Serve the provider's own document there.
  for (const wellKnown of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    if (pathname === `${wellKnown}${issuerPath}`) {
      const query = req.url.slice(req.url.indexOf('?') >= 0 ? req.url.indexOf('?') : req.url.length);
      req.url = `${wellKnown}${query}`;
      req.baseUrl = issuerPath; // oidc-provider builds endpoint URLs from it
      handler(req, res);
      return;
    }
  }

  // Everything else under the issuer path goes to the mounted provider.
  if (pathname === issuerPath || pathname.startsWith(`${issuerPath}/`)) {
    req.url = req.url.slice(issuerPath.length) || '/';
    if (!req.url.startsWith('/')) req.url = `/${req.url}`;
    req.baseUrl = issuerPath;
    handler(req, res);
    return;
  }

  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found\n');
});

server.listen(port, '127.0.0.1', () => {
  const { port: actual } = server.address();
  const issuer = `http://127.0.0.1:${actual}${issuerPath}`;

  const provider = new Provider(issuer, {
    clients: [{
      client_id: 'mcpauth-test',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: [
        'authorization_code',
        'refresh_token',
        'urn:ietf:params:oauth:grant-type:device_code',
      ],
      response_types: ['code'],
      // Native client: for loopback http redirect URIs oidc-provider ignores
      // the port (RFC 8252 section 7.3), so any 127.0.0.1 port matches.
      redirect_uris: ['http://127.0.0.1/callback', ...extraRedirectURIs],
    }],
    cookies: { keys: ['mcpauth-nodeop-test-only-cookie-key'] },
    features: {
      devInteractions: { enabled: true }, // login form: any login, any password
      deviceFlow: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // RFC 8707 resource parameter (MCP clients send it): any absolute URI
        // is accepted as a resource server; its tokens are JWTs with that
        // audience.
        defaultResource: async (_ctx, _client, oneOf) => oneOf,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resourceIndicator) => ({
          audience: resourceIndicator,
          scope: process.env.RESOURCE_SCOPES || 'mcp:tools mcp:read mcp:write',
          accessTokenFormat: 'jwt',
          accessTokenTTL,
        }),
      },
    },
    responseTypes: ['code'],
    pkce: { required: () => true }, // S256 is the only method oidc-provider supports
    rotateRefreshToken: true,
    // A refresh token with every device and auth code grant, offline_access
    // or not (unless ISSUE_REFRESH_TOKEN=0). The library's default rule needs
    // offline_access, which it drops from an authorization request that
    // lacks prompt=consent (OIDC Core 11), so a plain OAuth client would
    // never get one in the auth code flow.
    issueRefreshToken: async (_ctx, client) => issueRefreshTokens
      && client.grantTypeAllowed('refresh_token'),
    // Tokens outlive the browser session of the headless walk.
    expiresWithSession: async () => false,
    ttl: {
      AccessToken: () => accessTokenTTL,
      DeviceCode: () => deviceCodeTTL,
      IdToken: () => 3600,
      Interaction: () => 3600,
      Grant: () => 24 * 3600,
      Session: () => 24 * 3600,
      RefreshToken: () => 24 * 3600,
    },
    findAccount: async (_ctx, sub) => ({
      accountId: sub,
      claims: async () => ({ sub }),
    }),
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html><html><head><title>oops! something went wrong</title></head><body>${
        Object.entries(out).map(([k, v]) => `<pre><strong>${k}</strong>: ${String(v).replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`)}</pre>`).join('')
      }</body></html>`;
    },
  });

  provider.on('server_error', (_ctx, err) => console.error('nodeop: server_error', err));
  for (const ev of ['grant.error', 'authorization.error', 'device_authorization.error', 'code_verification.error']) {
    provider.on(ev, (_ctx, err) => console.error(`nodeop: ${ev}: ${err?.error || ''} ${err?.error_description || err?.message || ''}`));
  }

  handler = provider.callback();
  process.stdout.write(`READY ${issuer}\n`);
});

function shutdown() {
  server.close();
  server.closeAllConnections?.();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
