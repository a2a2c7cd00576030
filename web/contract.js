// The model's contract, as in runtime/contract.py: names, shapes and metadata keys.

export const IMAGE_SIZE = 28; // MNIST images are 28x28
export const NUM_CLASSES = 10;
export const LABELS = Array.from({ length: NUM_CLASSES }, (_, digit) => String(digit));

export const INPUT_NAME = 'image'; // uint8 (batch, 28, 28), light digit on dark, as in MNIST
export const OUTPUT_NAME = 'probabilities'; // float32 (batch, 10), softmax over the digits 0-9

// Keys in the ONNX model's metadata_props. Values are strings; structured values are JSON.
export const META_LABELS = 'labels';
export const META_TRAINING = 'training_metrics';
export const META_QUANTIZATION = 'quantization';
export const JSON_KEYS = [
  META_LABELS,
  'input_contract',
  'output_contract',
  META_TRAINING,
  'versions',
  META_QUANTIZATION,
];

/** A shipped model's name, as runtime/catalog.py gives it: 'mnist-cnn.int8.onnx' -> 'cnn.int8'. */
export function modelName(file) {
  return file.replace(/^mnist-/, '').replace(/\.onnx$/, '');
}

/** Metadata as written by the exporter, with JSON values parsed (unparsable ones kept raw). */
export function decodeMetadata(raw) {
  const decoded = {};
  for (const [key, value] of Object.entries(raw)) {
    decoded[key] = value;
    if (JSON_KEYS.includes(key)) {
      try {
        decoded[key] = JSON.parse(value);
      } catch {
        // kept as the raw string, as the runtime does
      }
    }
  }
  return decoded;
}

/** Raised for input the page cannot use (the twin of runtime/errors.py InputError). */
export class InputError extends Error {
  name = 'InputError';
}
