// The drawing pad: dark ink on white paper, drawn with mouse, finger or pen (pointer events).

export const PAD_SIDE = 560; // canvas pixels, shown smaller: smooth strokes on dense screens
export const STROKE_WIDTH = PAD_SIDE / 12; // a digit as tall as most of the pad: MNIST's strokes
export const PAPER = '#ffffff';
export const INK = '#000000';

export class Pad {
  /** `onDraw()` is called after each stroke segment, `onStrokeEnd()` when the pen lifts. */
  constructor(canvas, { onDraw, onStrokeEnd, onStrokeStart }) {
    this.canvas = canvas;
    canvas.width = PAD_SIDE;
    canvas.height = PAD_SIDE;
    this.context = canvas.getContext('2d', { willReadFrequently: true });
    this.callbacks = { onDraw, onStrokeEnd, onStrokeStart };
    this.last = null; // the pen's last position while a stroke is under way
    this.clear();
    canvas.addEventListener('pointerdown', (event) => this.start(event));
    canvas.addEventListener('pointermove', (event) => this.move(event));
    for (const name of ['pointerup', 'pointercancel']) {
      canvas.addEventListener(name, (event) => this.end(event));
    }
  }

  clear() {
    this.context.fillStyle = PAPER;
    this.context.fillRect(0, 0, PAD_SIDE, PAD_SIDE);
    this.empty = true;
  }

  /** The pad's RGBA pixels. */
  pixels() {
    return this.context.getImageData(0, 0, PAD_SIDE, PAD_SIDE);
  }

  /** An opened picture shown on the pad, fitted inside it (transparency over the paper). */
  show(bitmap) {
    this.clear();
    const scale = Math.min(PAD_SIDE / bitmap.width, PAD_SIDE / bitmap.height);
    const width = bitmap.width * scale;
    const height = bitmap.height * scale;
    this.context.drawImage(bitmap, (PAD_SIDE - width) / 2, (PAD_SIDE - height) / 2, width, height);
  }

  start(event) {
    if (event.button !== 0) return; // the main button, a touch or the pen's tip
    event.preventDefault();
    this.canvas.setPointerCapture(event.pointerId);
    this.callbacks.onStrokeStart?.();
    this.last = this.position(event);
    this.segment([this.last]);
  }

  move(event) {
    if (!this.last) return;
    const events = event.getCoalescedEvents?.() ?? [];
    this.segment((events.length ? events : [event]).map((each) => this.position(each)));
  }

  end(event) {
    if (!this.last) return;
    this.move(event);
    this.last = null;
    this.callbacks.onStrokeEnd?.();
  }

  /** A line from the last position through `points`; a dot when the pen has not moved. */
  segment(points) {
    const context = this.context;
    context.strokeStyle = INK;
    context.lineWidth = STROKE_WIDTH;
    context.lineCap = 'round';
    context.lineJoin = 'round';
    context.beginPath();
    context.moveTo(this.last.x, this.last.y);
    for (const point of points) context.lineTo(point.x, point.y);
    if (points.length === 1 && points[0] === this.last) {
      context.lineTo(this.last.x + 0.01, this.last.y); // a zero-length line draws nothing
    }
    context.stroke();
    this.last = points.at(-1);
    this.empty = false;
    this.callbacks.onDraw?.();
  }

  /** Pointer position in canvas pixels (the canvas is shown at a different size). */
  position(event) {
    const box = this.canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) / box.width) * PAD_SIDE,
      y: ((event.clientY - box.top) / box.height) * PAD_SIDE,
    };
  }
}
