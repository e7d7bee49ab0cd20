// The loss chart: training and test loss after every epoch, growing to the right.

const MAX_POINTS = 600;

export class LossChart {
  constructor(canvas) {
    this.canvas = canvas;
    this.clear();
  }

  clear() {
    this.train = [];
    this.test = [];
    this.lastEpoch = -1;
    this.draw();
  }

  // Add the losses of a state; a state from an earlier epoch means a new run.
  add(epoch, train, test) {
    if (epoch < this.lastEpoch || (epoch === 0 && this.lastEpoch > 0)) this.clear();
    if (epoch === this.lastEpoch) return;
    this.lastEpoch = epoch;
    this.train.push(train);
    this.test.push(test);
    if (this.train.length > MAX_POINTS) {
      // Keep every other point: the chart's shape, in bounded memory.
      this.train = this.train.filter((_, i) => i % 2 === 0);
      this.test = this.test.filter((_, i) => i % 2 === 0);
    }
    this.draw();
  }

  draw() {
    const { canvas } = this;
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    canvas.dataset.points = String(this.train.length);
    const values = [...this.train, ...this.test].filter((v) => v !== null && Number.isFinite(v));
    if (values.length < 2) return;
    const high = Math.max(...values) || 1;
    const line = (series, colour) => {
      ctx.beginPath();
      series.forEach((v, i) => {
        const x = (i / Math.max(1, series.length - 1)) * (canvas.width - 4) + 2;
        const y = canvas.height - 2 - ((v ?? 0) / high) * (canvas.height - 4);
        if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
      });
      ctx.strokeStyle = colour;
      ctx.lineWidth = 1.5;
      ctx.stroke();
    };
    line(this.test, "#222");
    line(this.train, "#888");
  }
}
