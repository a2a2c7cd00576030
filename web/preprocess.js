// Turn any decoded image into an MNIST digit, the way MNIST itself was made.
//
// The same algorithm as runtime/preprocess.py, which stays the reference: each function here
// has its twin there, with the same name (in camelCase) and the same constants, so the two
// can be read side by side. NumPy's dtypes are kept (Uint8Array for uint8, Float32Array for
// float32, Math.fround where NumPy rounds to float32), because they decide the rounding.
//
// An image is {width, height, data}, data row-major with one value per pixel; an RGBA image
// (what a canvas or a decoded file gives) has four bytes per pixel.

import { IMAGE_SIZE, InputError } from './contract.js';
import { BILINEAR, BOX, luma, reduce, resize } from './pillow.js';

export const DIGIT_BOX = 20; // MNIST digits' longest side, in pixels
export const CENTRE = IMAGE_SIZE / 2; // 14.0: where MNIST puts the centre of mass (row, column)
export const CENTRE_TOLERANCE = 0.6; // every MNIST digit's centre of mass is within 0.52 px of it
export const WORKING_SIDE = 1024; // larger images are first reduced by area averaging
export const MIN_CONTRAST = 32; // ink must stand this far (of 255) from the background
export const INK_FLOOR = 0.2; // after background removal, below this fraction of the peak is noise
export const BORDER_FRACTION = 0.03; // width of the border band that tells the background colour
const PAIRWISE_BLOCK = 128; // NumPy's PW_BLOCKSIZE: sums of up to this many values are not split

const { fround } = Math;

/** uint8 28x28 MNIST-format digit (a Uint8Array of 784) from an RGBA image of any size. */
export function toMnist(rgba) {
  return mnistFormat(greyscale(rgba));
}

/** Luminance in [0, 255] (uint8, or float32 where transparency was composited onto a backdrop
 *  that contrasts with the strokes). Images over WORKING_SIDE are first reduced by area,
 *  before any conversion. A browser decodes every file to RGBA, so an image "has alpha" here
 *  (the runtime's RGBA, LA, PA and transparency-keyed modes) when some pixel is not opaque. */
export function greyscale(rgba) {
  const { width, height, data } = reduced(rgba);
  const luminance = new Uint8Array(width * height); // convert("L")
  for (let i = 0; i < luminance.length; i++) {
    luminance[i] = luma(data[4 * i], data[4 * i + 1], data[4 * i + 2]);
  }
  if (isOpaque(rgba.data)) return { width, height, data: luminance };
  const alpha = new Float32Array(luminance.length); // convert("LA"), alpha / 255 in float32
  for (let i = 0; i < alpha.length; i++) alpha[i] = data[4 * i + 3] / 255;
  return { width, height, data: composite(Float32Array.from(luminance), alpha) };
}

function isOpaque(rgbaData) {
  for (let i = 3; i < rgbaData.length; i += 4) if (rgbaData[i] !== 255) return false;
  return true;
}

/** The picture over a backdrop that contrasts with its strokes.
 *
 *  The backdrop is the colour the transparent pixels carry (a light digit cut out of a black
 *  background keeps its dark anti-aliased edges: it belongs on black), unless the strokes are
 *  that colour too: a canvas export is dark strokes on transparent black, on which they would
 *  vanish. Then it is the opposite of the strokes (white behind dark). */
export function composite(luminance, alpha) {
  // luminance[alpha <= 0.5]: whole grey levels, so as bytes (the median is the same)
  const clear = Uint8Array.from(luminance).filter((_, i) => alpha[i] <= 0.5);
  if (clear.length === alpha.length) {
    return luminance.map((value, i) => fround(value * alpha[i])); // nothing drawn: blank
  }
  const strokes = average(luminance, alpha);
  let backdrop = strokes < 128 ? 255.0 : 0.0;
  if (clear.length > 0) {
    const underneath = median(clear);
    if (Math.abs(strokes - underneath) >= MIN_CONTRAST) backdrop = underneath;
  }
  return luminance.map((value, i) =>
    fround(fround(value * alpha[i]) + fround(backdrop * fround(1 - alpha[i]))),
  );
}

/** np.average(values, weights=weights) of float32 arrays, which NumPy computes in float32:
 *  the products, each sum (NumPy's pairwise sum) and their quotient all rounded to float32. */
export function average(values, weights) {
  const products = values.map((value, i) => value * weights[i]); // a Float32Array: rounded
  return fround(pairwiseSum(products, 0, products.length) / pairwiseSum(weights, 0, weights.length));
}

/** NumPy's sum of a float32 array (pairwise_sum in loops_utils.h): eight running sums over
 *  blocks of up to 128 values, halves added recursively, every addition rounded to float32. */
function pairwiseSum(values, start, count) {
  if (count < 8) {
    let sum = 0;
    for (let i = start; i < start + count; i++) sum = fround(sum + values[i]);
    return sum;
  }
  if (count <= PAIRWISE_BLOCK) {
    const sums = Float32Array.from(values.subarray(start, start + 8));
    let i = start + 8;
    for (const end = start + count - (count % 8); i < end; i += 8) {
      for (let lane = 0; lane < 8; lane++) sums[lane] += values[i + lane];
    }
    let sum = fround(
      fround(fround(sums[0] + sums[1]) + fround(sums[2] + sums[3])) +
        fround(fround(sums[4] + sums[5]) + fround(sums[6] + sums[7])),
    );
    for (; i < start + count; i++) sum = fround(sum + values[i]);
    return sum;
  }
  const half = Math.floor(count / 2) - (Math.floor(count / 2) % 8);
  return fround(pairwiseSum(values, start, half) + pairwiseSum(values, start + half, count - half));
}

/** Shrunk by a whole factor (block averages) until the longest side is <= WORKING_SIDE: an
 *  RGBA image reduced as Pillow reduces RGBA. (The runtime reduces a band of BAND_BLOCKS rows
 *  of blocks at a time, to the same result; here no premultiplied copy is made at all.) */
export function reduced(picture) {
  const factor = Math.ceil(Math.max(picture.width, picture.height) / WORKING_SIDE);
  return factor > 1 ? reduce(picture, factor) : picture;
}

/** uint8 (28, 28) MNIST digit from a greyscale image of either polarity. */
export function mnistFormat(grey) {
  let ink = inkOnBlack(grey);
  if (ink.width === IMAGE_SIZE && ink.height === IMAGE_SIZE && isMnistDigit(ink)) {
    return Uint8Array.from(ink.data); // already MNIST: unchanged, pixel for pixel
  }
  const peak = maximum(ink.data);
  if (peak < MIN_CONTRAST) {
    throw new InputError('no digit found (the image is blank or has almost no contrast)');
  }
  // NumPy compares float32 ink with a float32 threshold, uint8 ink with a float64 one
  const floor = ink.data instanceof Float32Array ? fround(INK_FLOOR * peak) : INK_FLOOR * peak;
  const floored = new Float32Array(ink.data.length);
  for (let i = 0; i < floored.length; i++) floored[i] = ink.data[i] < floor ? 0 : ink.data[i];
  ink = { ...ink, data: floored };
  return centreOfMassPlaced(fitBox(cropToInk(ink)));
}

/** The digit light on a background of exactly 0 (`grey` itself when it already is).
 *  The background is the median of a border band; the ink is whichever extreme lies
 *  farther from it. (The mean brightness would fail on thick strokes.) */
export function inkOnBlack(grey) {
  const border = borderValues(grey);
  let background = border.some((value) => value !== 0) ? median(border) : 0.0;
  let data = grey.data;
  if (background - minimum(data) > maximum(data) - background) {
    data = new data.constructor(data.length); // dark ink on light paper: 255 - grey, same dtype
    for (let i = 0; i < data.length; i++) data[i] = 255 - grey.data[i];
    background = 255 - background;
  }
  if (background === 0) return { ...grey, data };
  const level = fround(background);
  const ink = new Float32Array(data.length); // float32 maths, as NumPy does it
  for (let i = 0; i < data.length; i++) ink[i] = Math.max(data[i] - level, 0);
  return { ...grey, data: ink };
}

/** Median of the values (a histogram for bytes, a sort for floats; the same value either way). */
export function median(values) {
  const middle = Math.floor(values.length / 2);
  const sorted =
    values instanceof Uint8Array ? countingSort(values) : Float64Array.from(values).sort();
  if (values.length % 2) return sorted[middle];
  return (sorted[middle - 1] + sorted[middle]) / 2;
}

function countingSort(bytes) {
  const counts = new Uint32Array(256);
  for (const value of bytes) counts[value] += 1;
  const sorted = new Uint8Array(bytes.length);
  let next = 0;
  for (let value = 0; value < 256; value++) {
    sorted.fill(value, next, next + counts[value]);
    next += counts[value];
  }
  return sorted;
}

/** The values on the band along the edges that tells the background colour (border_mask). */
export function borderValues(grey) {
  const { width, height, data } = grey;
  const band = Math.max(1, roundHalfEven(BORDER_FRACTION * Math.min(width, height)));
  const values = [];
  for (let y = 0; y < height; y++) {
    const row = data.subarray(y * width, (y + 1) * width);
    if (y < band || y >= height - band || 2 * band >= width) values.push(row);
    else values.push(row.subarray(0, band), row.subarray(width - band));
  }
  const border = new data.constructor(values.reduce((total, part) => total + part.length, 0));
  values.reduce((offset, part) => (border.set(part, offset), offset + part.length), 0);
  return border;
}

/** Whether a 28x28 ink image is already as MNIST made it: 19-20 px long, centred by mass. */
export function isMnistDigit(ink) {
  const { rowSums, colSums } = profiles(ink);
  const rows = nonZero(rowSums);
  const cols = nonZero(colSums);
  if (rows.length === 0) return false;
  const longest = Math.max(rows.at(-1) - rows[0], cols.at(-1) - cols[0]) + 1;
  if (longest !== DIGIT_BOX - 1 && longest !== DIGIT_BOX) return false;
  const row = weightedCentre(rowSums);
  const col = weightedCentre(colSums);
  if (Math.max(Math.abs(row - CENTRE), Math.abs(col - CENTRE)) > CENTRE_TOLERANCE) return false;
  return ink.data.every((value) => Number.isInteger(value)); // whole pixel values
}

export function cropToInk(ink) {
  const { rowSums, colSums } = profiles(ink);
  const rows = nonZero(rowSums);
  const cols = nonZero(colSums);
  const width = cols.at(-1) - cols[0] + 1;
  const height = rows.at(-1) - rows[0] + 1;
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const start = (rows[0] + y) * ink.width + cols[0];
    data.set(ink.data.subarray(start, start + width), y * width);
  }
  return { width, height, data };
}

/** Scale so the longest side is 20 px, aspect ratio kept (area resampling), peak 255. */
export function fitBox(digit) {
  const scale = DIGIT_BOX / Math.max(digit.height, digit.width);
  const width = Math.max(1, roundHalfEven(digit.width * scale));
  const height = Math.max(1, roundHalfEven(digit.height * scale));
  const scaled = resize(digit, width, height, scale < 1 ? BOX : BILINEAR);
  const gain = fround(255 / maximum(scaled.data));
  return { width, height, data: scaled.data.map((value) => fround(value * gain)) };
}

/** Intensity-weighted [row, column] in pixel-index coordinates. */
export function centreOfMass(image) {
  const { rowSums, colSums } = profiles(image);
  return [weightedCentre(rowSums), weightedCentre(colSums)];
}

/** The mean index of a profile (row or column sums), weighted by ink. */
function weightedCentre(sums) {
  let moment = 0;
  let total = 0;
  sums.forEach((sum, index) => {
    moment += sum * index;
    total += sum;
  });
  return moment / total;
}

/** The digit in a 28x28 canvas, shifted by whole pixels to put its centre of mass at 14. */
export function centreOfMassPlaced(digit) {
  const { width, height } = digit;
  const [row, col] = centreOfMass(digit);
  const top = Math.min(Math.max(Math.floor(CENTRE - row + 0.5), 0), IMAGE_SIZE - height);
  const left = Math.min(Math.max(Math.floor(CENTRE - col + 0.5), 0), IMAGE_SIZE - width);
  const canvas = new Uint8Array(IMAGE_SIZE * IMAGE_SIZE);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const value = Math.min(Math.max(digit.data[y * width + x], 0), 255);
      canvas[(top + y) * IMAGE_SIZE + left + x] = roundHalfEven(value);
    }
  }
  return canvas;
}

/** Row and column sums in float64, as NumPy's sum(axis, dtype=float64) gives them. */
function profiles(image) {
  const rowSums = new Float64Array(image.height);
  const colSums = new Float64Array(image.width);
  const { width, data } = image;
  for (let y = 0; y < image.height; y++) {
    let sum = 0;
    for (let x = 0, i = y * width; x < width; x++, i++) {
      sum += data[i];
      colSums[x] += data[i];
    }
    rowSums[y] = sum;
  }
  return { rowSums, colSums };
}

function nonZero(values) {
  const indices = [];
  values.forEach((value, index) => value !== 0 && indices.push(index));
  return indices;
}

/** Python's round() and NumPy's rint(): halves go to the even neighbour. */
export function roundHalfEven(value) {
  const rounded = Math.round(value);
  return rounded - value === 0.5 && rounded % 2 !== 0 ? rounded - 1 : rounded;
}

function maximum(values) {
  let peak = 0; // NumPy's max(initial=0): values are never negative here
  for (let i = 0; i < values.length; i++) if (values[i] > peak) peak = values[i];
  return peak;
}

function minimum(values) {
  let lowest = Infinity;
  for (let i = 0; i < values.length; i++) if (values[i] < lowest) lowest = values[i];
  return lowest;
}
