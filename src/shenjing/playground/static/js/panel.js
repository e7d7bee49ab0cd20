// The diagnostics panel: dead and saturated units per layer, the gradient norm reaching
// each weight layer, its update-to-weight ratio against the 1e-3 rule of thumb, and the
// plain-language findings.

import { element } from "./dom.js";

const TARGET = 1e-3;

function number(v) {
  return v === null || v === undefined ? "–" : v.toExponential(1);
}

// A ratio's bar: log scale from 1e-6 (empty) to 1 (full), with the 1e-3 line in the middle.
function ratioCell(ratio) {
  const cell = element("td", { class: "ratio" });
  const track = element("span", { class: "track" });
  const bar = element("span", { class: "fill" });
  track.append(bar, element("span", { class: "target", title: "1e-3" }));
  if (ratio !== null && ratio > 0) {
    const position = Math.min(1, Math.max(0, (Math.log10(ratio) + 6) / 6));
    bar.style.width = `${Math.round(position * 100)}%`;
    const off = Math.abs(Math.log10(ratio / TARGET));
    bar.classList.add(off > 1.5 ? "far" : off > 0.7 ? "near" : "good");
  }
  cell.append(track, element("span", { class: "value" }, number(ratio)));
  return cell;
}

export function showDiagnostics(state, body, findingsList, ratioLine) {
  const hiddenByLayer = new Map();
  state.hidden.forEach((layer, h) => hiddenByLayer.set(h, layer));
  body.replaceChildren();
  state.layers.forEach((row, j) => {
    const tr = element("tr");
    const hidden = hiddenByLayer.get(j);
    const name = hidden ? `into hidden ${j + 1}` : "into output";
    tr.append(element("th", { scope: "row", title: row.name }, name));
    tr.append(element("td", {}, hidden ? `${hidden.dead}/${hidden.units.length}` : "–"));
    tr.append(element("td", {}, hidden ? `${hidden.saturated}/${hidden.units.length}` : "–"));
    tr.append(element("td", {}, number(row.grad_norm)));
    tr.append(ratioCell(row.update_ratio));
    body.append(tr);
  });
  const ratio = state.gradient_ratio;
  ratioLine.textContent = ratio === null ? "" :
    `Gradient reaching the first weight layer / the last: ${ratio.toPrecision(3)} (below 0.01: vanishing; above 100: exploding)`;
  findingsList.replaceChildren();
  if (!state.findings.length) {
    findingsList.append(element("li", { class: "none" }, "No findings: nothing crossed a threshold."));
  }
  for (const f of state.findings) {
    const li = element("li", { "data-code": f.code });
    li.append(element("strong", {}, f.message), document.createTextNode(` — ${f.advice}`));
    findingsList.append(li);
  }
}
