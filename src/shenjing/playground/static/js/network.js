// The network diagram: input features, hidden neurons with their heat maps, the output,
// and a link per weight whose width and colour show its size and sign.

import { element } from "./dom.js";
import { decode, diverging, paint, paintOutput, weightStyle } from "./draw.js";

const COL = 116; // column spacing, px
const ROW = 52; // row spacing
const BOX = 40; // a neuron's heat map
const TOP = 40; // room for each column's buttons
const LEFT = 56; // room for the features' names
const SVG = "http://www.w3.org/2000/svg";


function place(el, col, row) {
  el.style.left = `${LEFT + col * COL}px`;
  el.style.top = `${TOP + row * ROW}px`;
}

function centre(col, row) {
  return [LEFT + col * COL + BOX / 2, TOP + row * ROW + BOX / 2];
}

export class NetworkView {
  constructor(root, handlers) {
    this.root = root;
    this.handlers = handlers; // toggleFeature(name), neurons(layer, delta), editWeight(link), hover(canvas|null)
    this.key = "";
  }

  // Rebuild the diagram when the features or the layer widths change.
  build(config, featureLabels, maxNeurons) {
    const key = JSON.stringify([config.features, config.hidden, config.activation]);
    if (key === this.key) return;
    this.key = key;
    this.config = config;
    const names = Object.keys(featureLabels);
    const hidden = config.hidden;
    const columns = hidden.length + 2;
    const rows = Math.max(names.length, ...hidden, 1);
    this.root.replaceChildren();
    this.root.style.width = `${LEFT + columns * COL}px`;
    this.root.style.height = `${TOP + rows * ROW + 24}px`;
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("width", LEFT + columns * COL);
    svg.setAttribute("height", TOP + rows * ROW);
    this.root.append(svg);

    // Column 0: every feature, as a toggle; the switched-on ones feed the network.
    this.inputs = {};
    names.forEach((name, row) => {
      const on = config.features.includes(name);
      const button = element("button", {
        type: "button", class: "node feature", "aria-pressed": String(on),
        "aria-label": `Feature ${featureLabels[name]}`, title: `${featureLabels[name]}: click to switch`,
      });
      const canvas = element("canvas", { width: BOX, height: BOX, "aria-hidden": "true" });
      button.append(canvas, element("span", { class: "feature-name" }, featureLabels[name]));
      button.addEventListener("click", () => this.handlers.toggleFeature(name));
      place(button, 0, row);
      this.root.append(button);
      this.inputs[name] = canvas;
    });

    // The hidden columns, each with its + / − buttons and its dead/saturated count.
    this.neurons = [];
    this.counts = [];
    hidden.forEach((width, h) => {
      const col = h + 1;
      const head = element("div", { class: "column-head" });
      const add = element("button", { type: "button", "aria-label": `Add neuron to layer ${h + 1}` }, "+");
      const remove = element("button", { type: "button", "aria-label": `Remove neuron from layer ${h + 1}` }, "−");
      add.disabled = width >= maxNeurons;
      remove.disabled = width <= 1;
      add.addEventListener("click", () => this.handlers.neurons(h, +1));
      remove.addEventListener("click", () => this.handlers.neurons(h, -1));
      head.append(add, remove, element("span", {}, `${width} neuron${width > 1 ? "s" : ""}`));
      head.style.left = `${LEFT + col * COL - 12}px`;
      this.root.append(head);
      const units = [];
      for (let u = 0; u < width; u++) {
        const node = element("div", { class: "node neuron", role: "img", "aria-label": `Layer ${h + 1} neuron ${u + 1}` });
        const canvas = element("canvas", { width: BOX, height: BOX });
        node.append(canvas, element("span", { class: "badge" }));
        node.addEventListener("mouseenter", () => this.handlers.hover(canvas, node));
        node.addEventListener("mouseleave", () => this.handlers.hover(null, null));
        place(node, col, u);
        this.root.append(node);
        units.push({ node, canvas });
      }
      const count = element("p", { class: "dead-count", id: `dead-count-${h + 1}`, "aria-live": "polite" });
      count.style.left = `${LEFT + col * COL - 12}px`;
      count.style.top = `${TOP + width * ROW}px`;
      this.root.append(count);
      this.neurons.push(units);
      this.counts.push(count);
    });

    // The output.
    const out = element("div", { class: "node neuron output", role: "img", "aria-label": "Output" });
    this.outputCanvas = element("canvas", { width: BOX, height: BOX });
    out.append(this.outputCanvas);
    place(out, columns - 1, 0);
    this.root.append(out);

    // One link per weight; a wide transparent twin makes thin links easy to click.
    const sources = [config.features.map((name) => [0, names.indexOf(name)])];
    hidden.forEach((width, h) => sources.push([...Array(width).keys()].map((u) => [h + 1, u])));
    const targets = [...hidden.map((width, h) => [...Array(width).keys()].map((u) => [h + 1, u])), [[columns - 1, 0]]];
    this.links = sources.map((from, j) => from.map(([c0, r0], r) => targets[j].map(([c1, r1], c) => {
      const [x0, y0] = centre(c0, r0);
      const [x1, y1] = centre(c1, r1);
      const group = document.createElementNS(SVG, "g");
      group.setAttribute("class", "link");
      for (const cls of ["line", "hit"]) {
        const line = document.createElementNS(SVG, "line");
        line.setAttribute("x1", x0 + BOX / 2); line.setAttribute("y1", y0);
        line.setAttribute("x2", x1 - BOX / 2); line.setAttribute("y2", y1);
        line.setAttribute("class", cls);
        group.append(line);
      }
      // Focusable, so that a weight can be read and edited from the keyboard too.
      const from = j === 0 ? featureLabels[config.features[r]] : `layer ${j} neuron ${r + 1}`;
      const to = j === hidden.length ? "the output" : `layer ${j + 1} neuron ${c + 1}`;
      group.setAttribute("tabindex", "0");
      group.setAttribute("role", "button");
      group.setAttribute("aria-label", `Weight from ${from} to ${to}`);
      group.addEventListener("click", () => this.handlers.editWeight({ j, r, c }));
      group.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          this.handlers.editWeight({ j, r, c });
        }
      });
      svg.append(group);
      return group;
    })));
  }

  drawInputs(maps, size) {
    for (const [name, canvas] of Object.entries(this.inputs)) {
      if (maps[name]) paint(canvas, decode(maps[name].map), size, diverging);
    }
  }

  update(state, problem) {
    state.hidden.forEach((layer, h) => {
      const units = this.neurons[h] || [];
      layer.units.forEach((unit, u) => {
        if (!units[u]) return;
        const { node, canvas } = units[u];
        paint(canvas, decode(unit.map), state.neuron_resolution, diverging);
        node.classList.toggle("dead", unit.dead);
        node.classList.toggle("saturated", unit.saturated);
        const note = unit.dead ? (layer.kind === "Maxout" ? "a piece never wins" : "dead") : unit.saturated ? "saturated" : "";
        node.querySelector(".badge").textContent = unit.dead ? "✕" : unit.saturated ? "S" : "";
        node.setAttribute("aria-label", `Layer ${h + 1} neuron ${u + 1}${note ? ": " + note : ""}`);
        canvas.dataset.map = unit.map;
      });
      if (this.counts[h]) {
        const what = layer.kind === "Maxout" ? "idle pieces" : "dead";
        this.counts[h].textContent = `${what} ${layer.dead}/${layer.units.length} · saturated ${layer.saturated}`;
        this.counts[h].classList.toggle("alarm", layer.dead > 0 || layer.saturated > 0);
      }
    });
    paintOutput(this.outputCanvas, state.output, problem);
    this.weights = state.weights;
    (this.links || []).forEach((rows, j) => rows.forEach((cols, r) => cols.forEach((group, c) => {
      const w = state.weights[j] ? state.weights[j].W[r][c] : 0;
      const style = weightStyle(w);
      const line = group.firstChild;
      line.setAttribute("stroke", style.colour);
      line.setAttribute("stroke-width", style.width);
      group.setAttribute("data-weight", w);
    })));
  }

  // The weight behind a link, for the editor: {layer, index, value, editable}.
  weightAt({ j, r, c }) {
    const layer = this.weights && this.weights[j];
    if (!layer) return null;
    return { layer: layer.layer, index: [r, c], value: layer.W[r][c], editable: layer.editable };
  }
}
