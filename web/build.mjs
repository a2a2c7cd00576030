// Builds web/dist, a static site that works from any path of any static file server: the page,
// the three onnxruntime-web files its WebAssembly backend needs (the package's default entry
// would pull a 28 MB WebGPU variant), and the runtime's shipped models with a manifest, so a
// model added to runtime/models shows up in the page by itself. Run `npm ci` first.

import { copyFile, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = dirname(fileURLToPath(import.meta.url));
const DIST = join(WEB, 'dist');
const SHIPPED_MODELS = join(WEB, '..', 'runtime', 'models');
const ORT = join(WEB, 'node_modules', 'onnxruntime-web', 'dist');
const ORT_FILES = ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'];
const PAGE_EXTENSIONS = ['.html', '.css', '.js'];
const DEFAULT_MODEL = 'mnist-cnn.onnx'; // runtime/catalog.py DEFAULT: listed first, loaded first
const MANIFEST = 'models.json'; // model.js reads it

async function copyInto(folder, source, names) {
  await mkdir(folder, { recursive: true });
  for (const name of names) await copyFile(join(source, name), join(folder, name));
}

async function modelList() {
  const names = (await readdir(SHIPPED_MODELS)).filter((name) => name.endsWith('.onnx')).sort();
  const ordered = [
    ...names.filter((name) => name === DEFAULT_MODEL),
    ...names.filter((name) => name !== DEFAULT_MODEL),
  ];
  return Promise.all(
    ordered.map(async (file) => ({ file, bytes: (await stat(join(SHIPPED_MODELS, file))).size })),
  );
}

await rm(DIST, { recursive: true, force: true });
const page = (await readdir(WEB)).filter((name) => PAGE_EXTENSIONS.includes(extname(name)));
await copyInto(DIST, WEB, page);
await copyInto(join(DIST, 'ort'), ORT, ORT_FILES);
const models = await modelList();
const files = models.map(({ file }) => file);
await copyInto(join(DIST, 'models'), SHIPPED_MODELS, files);
await writeFile(join(DIST, 'models', MANIFEST), `${JSON.stringify({ models }, null, 2)}\n`);
console.log(`web/dist: ${page.length} page files, onnxruntime-web, ${files.join(', ')}`);
