// The demo's page, served from the binary: no external scripts, styles or
// fonts, so it works on a machine without a network.
#pragma once

#include <string_view>

namespace demo {

inline constexpr std::string_view page = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchboard job events</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2rem; color: #1d2330; background: #f6f7f9; }
  h1 { font-size: 1.4rem; margin: 0 0 1rem; }
  main { display: grid; grid-template-columns: 18rem 1fr; gap: 1.5rem; }
  section { background: #fff; border: 1px solid #d8dce3; border-radius: 8px; padding: 1rem; }
  ul { list-style: none; padding: 0; margin: 0; }
  #jobs li { padding: .4rem .5rem; border-radius: 4px; cursor: pointer; display: flex;
             justify-content: space-between; }
  #jobs li:hover { background: #eef1f6; }
  #jobs li.chosen { background: #dde6f7; font-weight: 600; }
  .state { font-size: .8rem; color: #5b6475; }
  form { display: flex; gap: .5rem; margin-top: 1rem; }
  input { flex: 1; padding: .35rem; }
  button { padding: .35rem .8rem; }
  #status { display: inline-block; padding: .15rem .5rem; border-radius: 999px; font-size: .8rem;
            background: #e2e5ea; }
  #status.open { background: #cdeed6; color: #135c2a; }
  #status.closed { background: #f6d5d5; color: #7a1b1b; }
  #events li { font-family: ui-monospace, monospace; font-size: .85rem; padding: .25rem 0;
               border-bottom: 1px solid #eef0f3; }
</style>
</head>
<body>
<h1>Switchboard job events</h1>
<main>
  <section>
    <h2>Jobs</h2>
    <ul id="jobs"></ul>
    <form id="create">
      <input id="name" name="name" placeholder="new job name" required maxlength="200">
      <button type="submit">Create</button>
    </form>
  </section>
  <section>
    <h2>Events <span id="chosen"></span> <span id="status">not connected</span></h2>
    <ul id="events"></ul>
  </section>
</main>
<script>
"use strict";
let socket = null;
let chosen = null;

function setStatus(text, kind) {
  const el = document.getElementById("status");
  el.textContent = text;
  el.className = kind || "";
}

async function loadJobs() {
  const response = await fetch("/jobs");
  const body = await response.json();
  const list = document.getElementById("jobs");
  list.replaceChildren();
  for (const job of body.jobs) {
    const item = document.createElement("li");
    item.dataset.id = job.id;
    if (job.id === chosen) item.className = "chosen";
    const name = document.createElement("span");
    name.textContent = job.name;
    const state = document.createElement("span");
    state.className = "state";
    state.textContent = job.state;
    item.append(name, state);
    item.addEventListener("click", () => watch(job.id, job.name));
    list.append(item);
  }
}

function watch(id, name) {
  if (socket) socket.close(1000, "switching job");
  chosen = id;
  document.getElementById("chosen").textContent = "for " + name;
  document.getElementById("events").replaceChildren();
  loadJobs();
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const ws = new WebSocket(scheme + location.host + "/jobs/" + id + "/subscribe");
  socket = ws;
  setStatus("connecting");
  ws.onopen = () => { if (ws === socket) setStatus("open", "open"); };
  ws.onclose = (e) => {
    if (ws === socket) setStatus("closed " + e.code + (e.reason ? " " + e.reason : ""), "closed");
  };
  ws.onmessage = (e) => {
    const message = JSON.parse(e.data);
    if (message.type === "subscribed") return;
    const item = document.createElement("li");
    item.dataset.seq = message.seq;
    item.textContent = "#" + message.seq + " " + JSON.stringify(message.event);
    document.getElementById("events").prepend(item);
  };
}

document.getElementById("create").addEventListener("submit", async (e) => {
  e.preventDefault();
  const input = document.getElementById("name");
  const response = await fetch("/jobs", {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({name: input.value}),
  });
  if (response.ok) {
    const job = await response.json();
    input.value = "";
    watch(job.id, job.name);
  }
});

loadJobs();
setInterval(loadJobs, 3000);
</script>
</body>
</html>
)html";

} // namespace demo
