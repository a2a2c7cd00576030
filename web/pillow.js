// The few Pillow operations that runtime/preprocess.py relies on, computed as Pillow computes
// them (Convert.c, Reduce.c, Resample.c), so that the page and the runtime agree pixel for pixel.
//
// An image here is {width, height, data}, data row-major: one value per pixel, a Float32Array
// (Pillow's "F") as NumPy would hold it; or, for RGBA, four bytes per pixel with the colour
// not premultiplied by alpha (what a canvas's getImageData gives, and Pillow's "RGBA").

export const BOX = { support: 0.5, filter: (x) => (x > -0.5 && x <= 0.5 ? 1.0 : 0.0) };
export const BILINEAR = { support: 1.0, filter: (x) => Math.max(0, 1.0 - Math.abs(x)) };

const TALL = 100; // Pillow resizes images 100x taller than wide vertically first

/** convert("L"): ITU-R 601-2 luma in Pillow's fixed point (Convert.c, L24). */
export function luma(red, green, blue) {
  return (red * 19595 + green * 38470 + blue * 7471 + 0x8000) >> 16;
}

/** convert("RGBa") or convert("La") of one channel of a pixel: the colour premultiplied by
 *  alpha (Convert.c, MULDIV255). */
function premultiplied(colour, alpha) {
  const product = colour * alpha + 128;
  return ((product >> 8) + product) >> 8;
}

/** convert("RGBA") or convert("LA") of one channel of an RGBa or La pixel: premultiplication
 *  undone, truncating (Convert.c, rgba2rgbA). */
function unpremultiplied(colour, alpha) {
  if (alpha === 255 || alpha === 0) return colour;
  return Math.min(255, Math.floor((255 * colour) / alpha));
}

/** reduce(factor) of an RGBA image (four bytes a pixel), as Pillow reduces RGBA: through
 *  "RGBa" (colour premultiplied by alpha), block means of each channel, premultiplication
 *  undone (Image.reduce). Each pixel is premultiplied as its block is summed, so no
 *  premultiplied copy of the whole image is made. */
export function reduce(image, factor) {
  const width = Math.ceil(image.width / factor);
  const height = Math.ceil(image.height / factor);
  const data = new Uint8Array(4 * width * height);
  const sums = new Float64Array(4); // premultiplied red, green, blue; alpha
  for (let y = 0; y < height; y++) {
    const rows = Math.min(factor, image.height - y * factor);
    for (let x = 0; x < width; x++) {
      const cols = Math.min(factor, image.width - x * factor);
      sums.fill(0);
      for (let row = y * factor; row < y * factor + rows; row++) {
        const start = 4 * (row * image.width + x * factor);
        for (let i = start; i < start + 4 * cols; i += 4) {
          const alpha = image.data[i + 3];
          for (let channel = 0; channel < 3; channel++) {
            sums[channel] += premultiplied(image.data[i + channel], alpha);
          }
          sums[3] += alpha;
        }
      }
      const out = 4 * (y * width + x);
      data[out + 3] = blockMean(sums[3], rows * cols);
      for (let channel = 0; channel < 3; channel++) {
        data[out + channel] = unpremultiplied(blockMean(sums[channel], rows * cols), data[out + 3]);
      }
    }
  }
  return { width, height, data };
}

/** Pillow's rounded mean of `count` bytes: (sum + count/2) times a 32-bit reciprocal, >> 24. */
function blockMean(sum, count) {
  const multiplier = Math.trunc(Math.fround(2 ** 32 / Math.fround(256 * count))); // float maths
  return Math.floor(((sum + Math.floor(count / 2)) * multiplier) / 2 ** 24);
}

/** resize(size, filter) of a float32 ("F") image: two separable passes in double precision. */
export function resize(image, width, height, filter) {
  if (width === image.width && height === image.height) {
    return { width, height, data: Float32Array.from(image.data) };
  }
  if (image.height > image.width * TALL && height < image.height) {
    return horizontalPass(verticalPass(image, height, filter), width, filter);
  }
  return verticalPass(horizontalPass(image, width, filter), height, filter);
}

function horizontalPass(image, width, filter) {
  if (width === image.width) return image;
  const { bounds, weights } = coefficients(image.width, width, filter);
  const data = new Float32Array(width * image.height);
  for (let y = 0; y < image.height; y++) {
    const row = y * image.width;
    for (let x = 0; x < width; x++) {
      const [first, count] = bounds[x];
      let sum = 0.0;
      for (let i = 0; i < count; i++) sum += image.data[row + first + i] * weights[x][i];
      data[y * width + x] = sum; // stored as float32, as Pillow does
    }
  }
  return { width, height: image.height, data };
}

function verticalPass(image, height, filter) {
  if (height === image.height) return image;
  const { bounds, weights } = coefficients(image.height, height, filter);
  const width = image.width;
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const [first, count] = bounds[y];
    for (let x = 0; x < width; x++) {
      let sum = 0.0;
      for (let i = 0; i < count; i++) sum += image.data[(first + i) * width + x] * weights[y][i];
      data[y * width + x] = sum;
    }
  }
  return { width, height, data };
}

/** Each output pixel's first input pixel, count and normalised weights (precompute_coeffs). */
function coefficients(inSize, outSize, filter) {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1.0);
  const support = filter.support * filterScale;
  const inverse = 1.0 / filterScale;
  const bounds = [];
  const weights = [];
  for (let out = 0; out < outSize; out++) {
    const centre = (out + 0.5) * scale;
    const first = Math.max(0, Math.trunc(centre - support + 0.5));
    const count = Math.min(inSize, Math.trunc(centre + support + 0.5)) - first;
    const kernel = [];
    for (let i = 0; i < count; i++) {
      kernel.push(filter.filter((i + first - centre + 0.5) * inverse));
    }
    const total = kernel.reduce((sum, weight) => sum + weight, 0.0);
    bounds.push([first, count]);
    weights.push(total === 0.0 ? kernel : kernel.map((weight) => weight / total));
  }
  return { bounds, weights };
}
