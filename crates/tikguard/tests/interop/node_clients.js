// Drives tikguard's emulator with the npm clients CRMs written in Node use: `node-routeros`
// (RouterOSAPI) and `routeros-client` (RouterOSClient, which turns `false` into `no` in
// queries). Each prints with `?disabled=no`, adds a subscriber, suspends by switching profile,
// and gets RouterOS' traps for duplicates, unknown parameters and missing profiles.
//
// usage: node node_clients.js HOST PORT USER PASSWORD-FILE [CAFILE]
// With CAFILE the connection is TLS (api-ssl) verified against it. Exits non-zero with a message
// on the first behaviour that differs from what RouterOS does.
const fs = require("fs");
const { RouterOSAPI } = require("node-routeros");
const { RouterOSClient } = require("routeros-client");

const [host, port, user, pwfile, cafile] = process.argv.slice(2);
const password = fs.readFileSync(pwfile, "utf8").trim();
const tls = cafile ? { ca: fs.readFileSync(cafile), servername: undefined } : undefined;
const opts = { host, port: Number(port), user, password, timeout: 10, tls };

function check(cond, what) {
  if (!cond) {
    console.error("FAIL:", what);
    process.exit(1);
  }
}

async function trapMessage(promise) {
  try {
    await promise;
  } catch (e) {
    return e.message;
  }
  check(false, "expected a trap");
}

async function nodeRouteros() {
  const bad = new RouterOSAPI({ ...opts, password: "wrong" });
  const m = await trapMessage(bad.connect());
  // node-routeros turns RouterOS' "invalid user name or password (6)" into its own wording.
  check(/password is invalid|invalid user name or password/.test(m), `node-routeros wrong password: ${m}`);

  const conn = new RouterOSAPI(opts);
  await conn.connect();
  const active = await conn.write("/ppp/secret/print", ["?disabled=no"]);
  check(active.map((s) => s.name).join() === "cust1", `node-routeros ?disabled=no: ${JSON.stringify(active)}`);
  await conn.write("/ppp/secret/add", ["=name=node1", "=password=p", "=profile=plan-10M"]);
  let t = await trapMessage(conn.write("/ppp/secret/add", ["=name=node1", "=password=p"]));
  check(t === "failure: secret with the same name already exists", `node-routeros duplicate: ${t}`);
  t = await trapMessage(conn.write("/ppp/secret/add", ["=name=node2", "=max_limit=1"]));
  check(t === "unknown parameter", `node-routeros unknown parameter: ${t}`);
  t = await trapMessage(conn.write("/ppp/secret/set", ["=numbers=node1", "=profile=nope"]));
  check(t === "input does not match any value of profile", `node-routeros missing profile: ${t}`);
  await conn.write("/ppp/secret/remove", ["=numbers=node1"]);
  conn.close();
}

async function routerosClient() {
  const client = new RouterOSClient(opts);
  const api = await client.connect();
  const secrets = api.menu("/ppp secret");
  const active = await secrets.where("disabled", false).get();
  check(active.map((s) => s.name).join() === "cust1", `routeros-client where(disabled, false): ${JSON.stringify(active)}`);
  await secrets.add({ name: "rc1", password: "p", profile: "plan-10M" });
  let t = await trapMessage(secrets.add({ name: "rc1", password: "p" }));
  check(t === "failure: secret with the same name already exists", `routeros-client duplicate: ${t}`);
  t = await trapMessage(api.menu("/ppp secret").where("name", "rc1").update({ profile: "nope" }));
  check(t === "input does not match any value of profile", `routeros-client missing profile: ${t}`);
  await api.menu("/ppp secret").where("name", "rc1").update({ profile: "default" });
  const rc1 = await api.menu("/ppp secret").where("name", "rc1").get();
  check(rc1.length === 1 && rc1[0].profile === "default", `routeros-client update: ${JSON.stringify(rc1)}`);
  await client.close();
}

(async () => {
  await nodeRouteros();
  await routerosClient();
  console.log("ok");
  process.exit(0);
})().catch((e) => {
  console.error("FAIL:", e && e.stack ? e.stack : e);
  process.exit(1);
});
