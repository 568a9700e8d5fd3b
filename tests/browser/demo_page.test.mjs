// A person's view of the demo: headless Chromium opens the page, creates a
// job through the form, and must show three events posted through REST, in
// order, with the connection state visible. Leaves a screenshot behind.
//   node --test demo_page.test.mjs   (DEMO_BINARY and SCREENSHOT in the environment)
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { test } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const binary = process.env.DEMO_BINARY;
const screenshot = process.env.SCREENSHOT ?? "demo-page.png";

async function startDemo() {
  const child = spawn(binary, ["--port", "0", "--threads", "2"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) {
    if (line.startsWith("port=")) {
      return { child, port: Number(line.slice(5)) };
    }
  }
  throw new Error("the demo did not report its port");
}

test("the page shows events posted through REST, in order", { timeout: 90_000 }, async () => {
  assert.ok(binary, "DEMO_BINARY must name the switchboard-demo binary");
  const { child, port } = await startDemo();
  const base = `http://127.0.0.1:${port}`;
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await page.fill("#name", "browser-job");
    await page.click("button[type=submit]");
    await page.waitForFunction(() => document.getElementById("status").textContent === "open",
                               null, { timeout: 10_000 });

    const jobs = await (await fetch(`${base}/jobs`)).json();
    const job = jobs.jobs.find((j) => j.name === "browser-job");
    assert.ok(job, "the form did not create the job");

    for (const step of ["fetch", "build", "ship"]) {
      const response = await fetch(`${base}/jobs/${job.id}/events`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ step }),
      });
      assert.equal(response.status, 202);
    }

    await page.waitForFunction(() => document.querySelectorAll("#events li").length === 3,
                               null, { timeout: 10_000 });
    // The page puts the newest event on top.
    const shown = await page.$$eval("#events li", (items) => items.map((i) => i.textContent));
    assert.deepEqual(shown.reverse(), [
      '#1 {"step":"fetch"}',
      '#2 {"step":"build"}',
      '#3 {"step":"ship"}',
    ]);
    assert.equal(await page.textContent("#status"), "open");
    await page.screenshot({ path: screenshot, fullPage: true });
  } finally {
    await browser.close();
    child.kill("SIGTERM");
    await once(child, "exit");
  }
  assert.equal(child.exitCode, 0);
});
