// A real TypeScript MCP client for mcpauth's Go tests (sdk/ts_test.go).
//
// Environment:
//   MCPAUTH_TS_LIB       sdk1 (@modelcontextprotocol/sdk 1.x) or client2 (@modelcontextprotocol/client 2.x)
//   MCPAUTH_TS_VERSION   legacy, or 2026-07-28 (client2 only: versionNegotiation pin)
//   MCPAUTH_TS_SCENARIO  lazy or explicit
//   MCPAUTH_SERVER       JSON {command, args, env} starting the example server
//   MCPAUTH_APPROVE_URL  the test's approval endpoint: POST the user code
//   MCPAUTH_TS_TOOLS     the tools to call, comma-separated (default corp_whoami,ping)
//
// It answers every URL elicitation by posting the code in its message to
// the approval endpoint, and prints one JSON summary line on stdout.

const lib = process.env.MCPAUTH_TS_LIB;
const version = process.env.MCPAUTH_TS_VERSION;
const scenario = process.env.MCPAUTH_TS_SCENARIO;
const server = JSON.parse(process.env.MCPAUTH_SERVER);
const approveURL = process.env.MCPAUTH_APPROVE_URL;

async function load() {
  try {
    if (lib === 'sdk1') {
      const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
      const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
      const types = await import('@modelcontextprotocol/sdk/types.js');
      return { Client, StdioClientTransport, types };
    }
    const { Client } = await import('@modelcontextprotocol/client');
    const { StdioClientTransport } = await import('@modelcontextprotocol/client/stdio');
    return { Client, StdioClientTransport };
  } catch (e) {
    console.error(`cannot load the ${lib} MCP client (${e.message}): run npm ci at the repository root`);
    process.exit(3);
  }
}

const { Client, StdioClientTransport, types } = await load();
const events = [];
const elicitations = [];

async function onElicit(request) {
  const p = request.params;
  elicitations.push({ mode: p.mode ?? '', url: p.url ?? '', message: p.message, id: p.elicitationId ?? '' });
  const code = /\b[A-Z]{4}-[A-Z]{4}\b/.exec(p.message)?.[0];
  if (!code) return { action: 'cancel' };
  const resp = await fetch(approveURL, { method: 'POST', body: code });
  if (!resp.ok) throw new Error(`approval failed: ${resp.status} ${await resp.text()}`);
  return { action: 'accept' };
}

const capabilities = { elicitation: { form: {}, url: {} } };
let client;
if (lib === 'sdk1') {
  client = new Client({ name: 'mcpauth-test-ts-sdk1', version: '1.0.0' }, { capabilities });
  client.setRequestHandler(types.ElicitRequestSchema, onElicit);
  client.setNotificationHandler(types.ToolListChangedNotificationSchema, () => {});
  client.setNotificationHandler(types.ElicitationCompleteNotificationSchema, (n) => events.push('complete:' + n.params.elicitationId));
} else {
  const mode = version === 'legacy' ? 'legacy' : { pin: version };
  client = new Client({ name: 'mcpauth-test-ts-client2', version: '2.0.0' }, {
    capabilities,
    versionNegotiation: { mode },
    listChanged: { tools: { onChanged: (err, tools) => events.push(err ? 'tools_error' : 'tools_refetched:' + tools.length) } },
  });
  client.setRequestHandler('elicitation/create', onElicit);
  client.setNotificationHandler('notifications/elicitation/complete', (n) => events.push('complete:' + n.params.elicitationId));
}

const transport = new StdioClientTransport({ command: server.command, args: server.args, env: server.env, stderr: 'inherit' });
await client.connect(transport);
// Record the order messages arrive in, before the client dispatches them.
const dispatch = transport.onmessage;
transport.onmessage = (message, extra) => {
  if (message.method === 'notifications/tools/list_changed') events.push('list_changed');
  return dispatch(message, extra);
};

const text = (res) => (res.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('');
const summary = { protocolVersion: client.getNegotiatedProtocolVersion?.() ?? '', results: {}, events, elicitations };
const names = async () => (await client.listTools()).tools.map((t) => t.name).sort();

if (scenario === 'explicit') {
  summary.toolsBefore = await names();
  const login = await client.callTool({ name: 'auth_login', arguments: {} });
  events.push('auth_login result');
  summary.results.auth_login = text(login);
  summary.toolsAfter = await names();
}
for (const name of (process.env.MCPAUTH_TS_TOOLS || 'corp_whoami,ping').split(',')) {
  const res = await client.callTool({ name, arguments: {} });
  summary.results[name] = (res.isError ? 'ERROR: ' : '') + text(res);
}
// Let trailing notifications (elicitation/complete, tools re-fetch) arrive.
await new Promise((r) => setTimeout(r, 300));
console.log(JSON.stringify(summary));
await client.close();
