// Heat maps and points on canvases. Maps arrive as base64, one byte per grid cell, row by
// row from the top left (see the server's encode module for what each byte means).

export const EXTENT = 6;
const NEGATIVE = [232, 131, 58]; // orange: negative values, class 0
const POSITIVE = [38, 120, 200]; // blue: positive values, class 1
const WHITE = [247, 247, 247];
const CLASS_COLOURS = [
  [232, 131, 58], [38, 120, 200], [60, 170, 90], [200, 60, 120],
  [140, 100, 200], [200, 180, 40], [60, 180, 190], [120, 120, 120],
];

export function decode(b64) {
  const text = atob(b64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

function mix(a, b, t) {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

// A byte as a diverging colour: 0 orange, 128 white, 255 blue.
export function diverging(byte) {
  const t = (byte - 128) / 127;
  return t < 0 ? mix(WHITE, NEGATIVE, Math.min(1, -t)) : mix(WHITE, POSITIVE, Math.min(1, t));
}

// A fraction (byte / 255) as the same scale: 0 orange, 0.5 white, 1 blue.
export function fraction(byte) {
  return diverging(Math.round(byte / 255 * 254) + 1);
}

export function classColour(index) {
  return CLASS_COLOURS[index % CLASS_COLOURS.length];
}

const scratch = document.createElement("canvas");

// Paint a size × size map of bytes onto `canvas`, stretched, with colour(byte, i).
export function paint(canvas, bytes, size, colour) {
  scratch.width = size;
  scratch.height = size;
  const sctx = scratch.getContext("2d");
  const image = sctx.createImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    const c = colour(bytes[i], i);
    image.data[4 * i] = c[0];
    image.data[4 * i + 1] = c[1];
    image.data[4 * i + 2] = c[2];
    image.data[4 * i + 3] = 255;
  }
  sctx.putImageData(image, 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(scratch, 0, 0, canvas.width, canvas.height);
}

// The output map: the boundary (classification) or the surface (regression).
export function paintOutput(canvas, output, problem) {
  const size = output.resolution;
  const bytes = decode(output.map);
  if (problem === "classification" && output.confidence) {
    const conf = decode(output.confidence);
    paint(canvas, bytes, size, (b, i) => mix(WHITE, classColour(b), 0.25 + 0.6 * conf[i] / 255));
  } else {
    paint(canvas, bytes, size, fraction);
  }
}

// Training (white edge) and test (dark edge) points over the map.
export function drawPoints(canvas, points, { classes, range, test }) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width;
  const h = canvas.height;
  for (const [x1, x2, y] of points) {
    const px = (x1 + EXTENT) / (2 * EXTENT) * w;
    const py = (EXTENT - x2) / (2 * EXTENT) * h;
    let c;
    if (classes) c = classes.length > 2 ? classColour(y) : (y ? POSITIVE : NEGATIVE);
    else c = fraction(Math.round(255 * (y - range[0]) / ((range[1] - range[0]) || 1)));
    ctx.beginPath();
    ctx.arc(px, py, 3, 0, 2 * Math.PI);
    ctx.fillStyle = rgb(c.map((v) => v * 0.8)); // a shade darker than its region
    ctx.fill();
    ctx.lineWidth = 1;
    ctx.strokeStyle = test ? "#222" : "#fff";
    ctx.stroke();
  }
}

export function rgb(c) {
  return `rgb(${Math.round(c[0])},${Math.round(c[1])},${Math.round(c[2])})`;
}

// A weight's colour and width, for the links.
export function weightStyle(w) {
  return { colour: rgb(w >= 0 ? POSITIVE : NEGATIVE), width: Math.min(8, 0.5 + 2 * Math.abs(w)) };
}
