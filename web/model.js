// The ONNX model in onnxruntime-web's WebAssembly backend: the same file the runtime ships.

import * as ort from './ort/ort.wasm.min.mjs';
import { IMAGE_SIZE, INPUT_NAME, NUM_CLASSES, OUTPUT_NAME, decodeMetadata } from './contract.js';
import { readMetadata } from './onnx-metadata.js';

export const MODELS = new URL('./models/', import.meta.url);
export const MANIFEST = 'models.json'; // written by build.mjs: the models in dist, default first

ort.env.wasm.wasmPaths = new URL('./ort/', import.meta.url).href; // served beside the page
// Without cross-origin isolation the page cannot share memory with workers, so ask for one
// thread rather than let onnxruntime try; one image is far too small to split anyway.
ort.env.wasm.numThreads = 1;

/** [{file, bytes}] of the models this page was built with, the default first. */
export async function listModels() {
  const response = await fetch(new URL(MANIFEST, MODELS));
  if (!response.ok) throw new Error(`${MANIFEST}: HTTP ${response.status}`);
  return (await response.json()).models;
}

/** {file, bytes, metadata, session} for a model file in the models folder. */
export async function loadModel(file) {
  const response = await fetch(new URL(file, MODELS));
  if (!response.ok) throw new Error(`${file}: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const metadata = decodeMetadata(readMetadata(bytes)); // before the session takes the bytes
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const [input] = session.inputMetadata;
  if (session.inputNames[0] !== INPUT_NAME || input.type !== 'uint8') {
    throw new Error(`${file}: not an mnist-edge model (input must be '${INPUT_NAME}' uint8)`);
  }
  const model = { file, bytes: bytes.length, metadata, session };
  await predict(model, new Uint8Array(IMAGE_SIZE * IMAGE_SIZE), 1); // the first run sets up buffers
  return model;
}

/** float32 probabilities (count x 10) for `count` uint8 28x28 images laid end to end. */
export async function predict(model, images, count) {
  const tensor = new ort.Tensor('uint8', images, [count, IMAGE_SIZE, IMAGE_SIZE]);
  const outputs = await model.session.run({ [INPUT_NAME]: tensor });
  const probabilities = outputs[OUTPUT_NAME];
  if (probabilities.data.length !== count * NUM_CLASSES) {
    throw new Error(`${model.file}: expected ${NUM_CLASSES} probabilities per image`);
  }
  return probabilities.data;
}
