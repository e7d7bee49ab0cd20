// The page: one WebSocket to the server, which trains; this file only shows and asks.

import { LossChart } from "./chart.js";
import { Controls } from "./controls.js";
import { drawPoints, paintOutput } from "./draw.js";
import { NetworkView } from "./network.js";
import { showDiagnostics } from "./panel.js";
import { readConfig, serverConfig, token, writeConfig } from "./url.js";
import { setupFiles } from "./files.js";

const $ = (id) => document.getElementById(id);
const page = { config: readConfig(), data: null, state: null, session: null, limits: null, playing: false };
let socket = null;

function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

function status(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

// A change from a control: keep it in the URL, and send it unless it only concerns the page.
function change(changes, pageOnly = false) {
  Object.assign(page.config, changes);
  writeConfig(page.config);
  controls.show(page.config);
  if (pageOnly) redrawOutput();
  else send({ type: "config", config: serverConfig(page.config) });
}

const controls = new Controls(change);

const network = new NetworkView($("network"), {
  toggleFeature(name) {
    const on = page.config.features.includes(name);
    if (on && page.config.features.length === 1) return status("Keep at least one input feature on.", true);
    const names = Object.keys(page.limits.features);
    const features = on ? page.config.features.filter((f) => f !== name)
      : names.filter((f) => f === name || page.config.features.includes(f));
    change({ features });
  },
  neurons(layer, delta) {
    const hidden = [...page.config.hidden];
    hidden[layer] = Math.min(page.limits.max_neurons, Math.max(1, hidden[layer] + delta));
    change({ hidden });
  },
  editWeight(link) {
    const weight = network.weightAt(link);
    if (!weight) return;
    if (!weight.editable) return status("Maxout's weights are shown averaged over its pieces; they cannot be edited here.", true);
    editing = weight;
    $("weight-what").textContent = `Weight of layer ${weight.layer}, from unit ${weight.index[0] + 1} to unit ${weight.index[1] + 1}`;
    $("weight-value").value = weight.value;
    $("weight-editor").hidden = false;
    $("weight-value").focus();
  },
  hover(canvas, node) {
    hovered = canvas;
    const big = $("hover-map");
    big.hidden = !canvas;
    if (!canvas) return;
    const box = node.getBoundingClientRect();
    big.style.left = `${box.right + window.scrollX + 8}px`;
    big.style.top = `${box.top + window.scrollY}px`;
    drawHover();
  },
});
let editing = null;
let hovered = null;

function drawHover() {
  if (!hovered) return;
  const big = $("hover-map");
  const ctx = big.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(hovered, 0, 0, big.width, big.height);
}

$("weight-editor").addEventListener("submit", (event) => {
  event.preventDefault();
  const value = Number($("weight-value").value);
  if (editing && Number.isFinite(value)) {
    send({ type: "set", layer: editing.layer, name: "W", index: editing.index, value });
  }
  $("weight-editor").hidden = true;
});
$("weight-cancel").addEventListener("click", () => { $("weight-editor").hidden = true; });

$("play").addEventListener("click", () => send({ type: page.playing ? "pause" : "play" }));
$("step").addEventListener("click", () => send({ type: "step" }));
$("reset").addEventListener("click", () => send({ type: "reset" }));
$("regenerate").addEventListener("click", () => send({ type: "regenerate" }));
$("add-layer").addEventListener("click", () => {
  if (page.config.hidden.length < page.limits.max_layers) change({ hidden: [...page.config.hidden, 2] });
});
$("remove-layer").addEventListener("click", () => {
  if (page.config.hidden.length > 0) change({ hidden: page.config.hidden.slice(0, -1) });
});

function setPlaying(playing) {
  page.playing = playing;
  $("play").textContent = playing ? "Pause" : "Play";
  $("play").classList.toggle("playing", playing);
}

function redrawOutput() {
  const { data, state } = page;
  if (!data || !state) return;
  const canvas = $("output");
  paintOutput(canvas, state.output, data.problem);
  const style = { classes: data.classes, range: data.target_range };
  drawPoints(canvas, data.train, { ...style, test: false });
  if (page.config.show_test) drawPoints(canvas, data.test, { ...style, test: true });
}

function loss(v) {
  return v === null ? "–" : v.toFixed(3);
}

const chart = new LossChart($("loss-chart"));

function onData(message) {
  page.data = message;
  Object.assign(page.config, message.config);
  if (message.config.dataset === "upload") controls.uploaded = true;
  writeConfig(page.config);
  controls.show(page.config);
  network.build(page.config, page.limits.features, page.limits.max_neurons);
  network.drawInputs(message.inputs, Math.max(10, Math.floor(page.config.resolution / 2)));
  $("snippet").textContent = message.snippet;
  $("data-description").textContent = message.description;
  if (message.notices.length) status(message.notices.join("; "));
}

function onState(state) {
  page.state = state;
  $("epoch").textContent = String(state.epoch);
  $("step-count").textContent = String(state.step);
  $("train-loss").textContent = loss(state.train_loss);
  $("test-loss").textContent = loss(state.test_loss);
  chart.add(state.epoch, state.train_loss, state.test_loss);
  network.update(state, page.data.problem);
  redrawOutput();
  drawHover();
  if ($("snippet").textContent !== state.snippet) $("snippet").textContent = state.snippet;
  showDiagnostics(state, document.querySelector("#diagnostics tbody"), $("findings"), $("gradient-ratio"));
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws?token=${encodeURIComponent(token())}`);
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "hello") {
      page.session = message.session;
      page.limits = message.limits;
      controls.setLimits(message.limits);
      files.ready(message.session, message.onnx);
      const config = serverConfig(page.config);
      if (config.dataset === "upload") Object.assign(config, { dataset: message.limits.datasets[config.problem][0] });
      send({ type: "config", config });
    } else if (message.type === "data") onData(message);
    else if (message.type === "state") { if (page.data) onState(message); }
    else if (message.type === "playing") setPlaying(message.playing);
    else if (message.type === "error") status(message.message, true);
  });
  socket.addEventListener("close", (event) => {
    setPlaying(false);
    status(event.reason ? `Disconnected: ${event.reason}` : "Disconnected from the server; reload the page to start again.", true);
  });
}

const files = setupFiles({ send, status });
connect();
