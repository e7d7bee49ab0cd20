// The whole configuration, seed included, lives in the URL's fragment (#...), so a link
// reproduces the run; the token stays in the query (?token=...).

export const DEFAULTS = {
  problem: "classification",
  dataset: "circle",
  noise: 0,
  train_percent: 50,
  seed: 0,
  features: ["x1", "x2"],
  hidden: [4, 2],
  activation: "tanh",
  loss: "binary_cross_entropy",
  optimizer: "sgd",
  lr: 0.03,
  momentum: 0,
  batch: 10,
  regularization: "none",
  reg_rate: 0,
  resolution: 50,
};
// Kept in the URL but not sent to the server.
export const PAGE_ONLY = { show_test: false };

const LISTS = new Set(["features", "hidden"]);
const NUMBERS = new Set(["noise", "train_percent", "seed", "lr", "momentum", "batch", "reg_rate", "resolution"]);

export function token() {
  return new URLSearchParams(location.search).get("token") || "";
}

// The configuration in the fragment, over the defaults; unknown keys are ignored and the
// server checks every value.
export function readConfig() {
  const config = { ...DEFAULTS, ...PAGE_ONLY };
  const params = new URLSearchParams(location.hash.slice(1));
  for (const [key, value] of params) {
    if (!(key in config)) continue;
    if (key === "hidden") config.hidden = value === "" ? [] : value.split(",").map(Number);
    else if (key === "features") config.features = value.split(",").filter(Boolean);
    else if (NUMBERS.has(key)) config[key] = Number(value);
    else if (key === "show_test") config.show_test = value === "1";
    else config[key] = value;
  }
  return config;
}

export function writeConfig(config) {
  const params = new URLSearchParams();
  for (const key of Object.keys({ ...DEFAULTS, ...PAGE_ONLY })) {
    let value = config[key];
    if (LISTS.has(key)) value = value.join(",");
    else if (typeof value === "boolean") value = value ? "1" : "0";
    params.set(key, String(value));
  }
  history.replaceState(null, "", `${location.pathname}${location.search}#${params}`);
}

// What the server runs: everything but the page-only fields.
export function serverConfig(config) {
  const out = {};
  for (const key of Object.keys(DEFAULTS)) out[key] = config[key];
  return out;
}
