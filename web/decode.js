// Opening image files: any format the browser decodes, a pixel limit, EXIF orientation,
// frame 0 (runtime/images.py does the same with Pillow).

import { InputError } from './contract.js';

export const MAX_PIXELS = 50_000_000; // a 48-megapixel phone photo fits; a digit never needs more

/** The decoded file as an ImageBitmap (what the page shows) and its RGBA pixels. */
export async function decodeImage(file) {
  let bitmap;
  try {
    // Pillow applies no colour profile and keeps alpha unpremultiplied: ask for the same
    bitmap = await createImageBitmap(file, {
      imageOrientation: 'from-image',
      premultiplyAlpha: 'none',
      colorSpaceConversion: 'none',
    });
  } catch {
    throw new InputError('not an image this browser can decode');
  }
  const { width, height } = bitmap;
  if (width * height > MAX_PIXELS) {
    bitmap.close();
    throw new InputError(
      `image is ${width}x${height} pixels (${Math.round((width * height) / 1e6)} MP); ` +
        `refusing more than ${MAX_PIXELS / 1e6} MP`,
    );
  }
  return { bitmap, rgba: await pixelsOf(bitmap) };
}

/** RGBA bytes of a bitmap as decoded ({width, height, data}, colour not premultiplied, as
 *  Pillow holds RGBA). Read through a VideoFrame, which keeps every pixel's colour: a canvas
 *  stores colour premultiplied by alpha, so it loses the colour under transparent pixels
 *  (which the runtime's composite looks at) and rounds it under half-transparent ones. */
export async function pixelsOf(bitmap) {
  if (typeof VideoFrame === 'undefined') return canvasPixels(bitmap);
  let frame;
  try {
    frame = new VideoFrame(bitmap, { timestamp: 0 });
  } catch {
    return canvasPixels(bitmap); // a bitmap VideoFrame cannot wrap
  }
  try {
    return FRAME_CHANNELS[frame.format] ? await framePixels(frame) : canvasPixels(bitmap);
  } finally {
    frame.close();
  }
}

// Where red, green, blue and alpha sit in a pixel of each 8-bit RGB VideoFrame format
// (the X formats are opaque: their fourth byte means nothing).
const FRAME_CHANNELS = {
  RGBA: [0, 1, 2, 3],
  RGBX: [0, 1, 2, null],
  BGRA: [2, 1, 0, 3],
  BGRX: [2, 1, 0, null],
};

async function framePixels(frame) {
  const { width, height } = frame.visibleRect; // what copyTo copies
  const buffer = new Uint8Array(frame.allocationSize());
  const [{ offset, stride }] = await frame.copyTo(buffer);
  const [red, green, blue, alpha] = FRAME_CHANNELS[frame.format];
  const data = new Uint8Array(4 * width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0, from = offset + y * stride, to = 4 * y * width; x < width; x++) {
      data[to++] = buffer[from + red];
      data[to++] = buffer[from + green];
      data[to++] = buffer[from + blue];
      data[to++] = alpha === null ? 255 : buffer[from + alpha];
      from += 4;
    }
  }
  return { width, height, data };
}

/** RGBA bytes of a bitmap drawn on a canvas, where VideoFrame is missing: exact on opaque
 *  pixels, black under transparent ones. */
function canvasPixels(bitmap) {
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0);
  return context.getImageData(0, 0, bitmap.width, bitmap.height);
}
