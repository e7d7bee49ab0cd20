// The form controls: filled from the server's limits, set from the configuration, and
// turned back into configuration changes.

const $ = (id) => document.getElementById(id);

const LABELS = {
  sigmoid: "Sigmoid", tanh: "Tanh", relu: "ReLU", leaky_relu: "Leaky ReLU", elu: "ELU",
  softplus: "Softplus", gelu: "GELU", maxout: "Maxout",
  binary_cross_entropy: "Binary cross-entropy", softmax_cross_entropy: "Softmax cross-entropy",
  mse: "Mean squared error", huber: "Huber", sse: "Sum of squared errors",
  sgd: "SGD (momentum)", adam: "Adam", adamw: "AdamW", rmsprop: "RMSprop", adagrad: "AdaGrad",
  none: "None", l1: "L1", l2: "L2",
  circle: "Circle", xor: "Exclusive or", gauss: "Gaussian", spiral: "Spiral",
  plane: "Plane", bump: "Gaussian bump", upload: "Your CSV",
};

function options(select, values) {
  const keep = select.value;
  select.replaceChildren(...values.map((v) => {
    const option = document.createElement("option");
    option.value = v;
    option.textContent = LABELS[v] || v;
    return option;
  }));
  if (values.includes(keep)) select.value = keep;
}

// Numbers typed or slid; the page sends them and the server checks them.
const NUMERIC = { lr: "lr", momentum: "momentum", "reg-rate": "reg_rate", seed: "seed", resolution: "resolution" };
const RANGES = { "train-percent": "train_percent", noise: "noise", batch: "batch" };
const SELECTS = { activation: "activation", loss: "loss", optimizer: "optimizer", regularization: "regularization" };

export class Controls {
  constructor(onChange) {
    this.onChange = onChange; // (changes: object) => void
    this.limits = null;
    this.uploaded = false;
    for (const [id, key] of Object.entries({ ...NUMERIC, ...RANGES })) {
      const input = $(id);
      const event = id in RANGES ? "input" : "change";
      input.addEventListener(event, () => {
        const value = Number(input.value);
        if (input.value === "" || !Number.isFinite(value)) return;
        this.showValue(id, value);
        if (id in RANGES && event === "input") this.pending(key, value);
        else this.onChange({ [key]: value });
      });
    }
    for (const [id, key] of Object.entries(SELECTS)) {
      $(id).addEventListener("change", () => this.onChange({ [key]: $(id).value }));
    }
    $("dataset").addEventListener("change", () => this.onChange({ dataset: $("dataset").value }));
    $("problem").addEventListener("change", () => {
      const problem = $("problem").value;
      const datasets = this.datasets(problem);
      this.onChange({ problem, dataset: datasets[0], loss: this.limits.losses[problem][0] });
    });
    $("show-test").addEventListener("change", () => this.onChange({ show_test: $("show-test").checked }, true));
    this.timer = null;
  }

  // Sliders send their value once it has rested for a moment, not on every pixel.
  pending(key, value) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.onChange({ [key]: value }), 120);
  }

  showValue(id, value) {
    const out = $(`${id}-value`);
    if (out) out.textContent = String(value);
  }

  datasets(problem) {
    const names = [...this.limits.datasets[problem]];
    if (this.uploaded) names.push("upload");
    return names;
  }

  setLimits(limits) {
    this.limits = limits;
    options($("activation"), limits.activations);
    options($("optimizer"), limits.optimizers);
    options($("regularization"), limits.regularizations);
    $("lr").max = limits.max_lr;
    $("batch").max = limits.max_batch;
    $("reg-rate").max = limits.max_reg_rate;
    $("seed").max = limits.max_seed;
    $("resolution").min = limits.resolution[0];
    $("resolution").max = limits.resolution[1];
  }

  // Show `config` in every control.
  show(config) {
    if (!this.limits) return;
    $("problem").value = config.problem;
    options($("dataset"), this.datasets(config.problem));
    options($("loss"), this.limits.losses[config.problem]);
    for (const [id, key] of Object.entries({ ...SELECTS, dataset: "dataset" })) $(id).value = config[key];
    for (const [id, key] of Object.entries({ ...NUMERIC, ...RANGES })) {
      if (document.activeElement !== $(id)) $(id).value = config[key];
      this.showValue(id, config[key]);
    }
    $("show-test").checked = Boolean(config.show_test);
    $("momentum-box").hidden = config.optimizer !== "sgd";
    const layers = config.hidden.length;
    $("add-layer").disabled = layers >= this.limits.max_layers;
    $("remove-layer").disabled = layers === 0;
    $("layer-count").textContent = `${layers} hidden layer${layers === 1 ? "" : "s"}`;
  }
}
