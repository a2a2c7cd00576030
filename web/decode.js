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
  return { bitmap, rgba: pixelsOf(bitmap) };
}

/** RGBA bytes of a bitmap. (A canvas stores colour premultiplied by alpha, so a half-transparent
 *  pixel's colour can come back a grey level off; opaque and fully transparent ones are exact.) */
export function pixelsOf(bitmap) {
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0);
  return context.getImageData(0, 0, bitmap.width, bitmap.height);
}
