// The page: wires the pad, image files, preprocessing, the model and the view together.

import { InputError, LABELS, META_LABELS, modelName } from './contract.js';
import { decodeImage } from './decode.js';
import { listModels, loadModel, predict } from './model.js';
import { Pad } from './pad.js';
import { toMnist } from './preprocess.js';
import { View, describeModel } from './view.js';

const DRAW = 'Draw a digit';
const MAX_MEASURES = 10_000; // 'prediction' timings kept for benchmarks (make bench-web)
const element = (id) => document.getElementById(id);

const state = {
  model: null, // the model in use: {file, bytes, metadata, session}
  loading: new Map(), // file -> promise of its loaded model, so each loads once
  image: null, // the opened picture's RGBA pixels, or null while the pad is the input
  queued: null, // {final} of a prediction asked for while another was running
  running: false,
  predicted: false, // whether the page has shown a prediction yet
};

const view = new View(LABELS);
const pad = new Pad(element('pad'), {
  onStrokeStart: () => state.image && forgetImage(), // a stroke on an opened picture starts afresh
  onDraw: () => request(false),
  onStrokeEnd: () => request(true),
});

/** Ask for a prediction of the current input; while one runs, only the latest request waits. */
function request(final) {
  state.queued = { final: (state.queued?.final ?? false) || final };
  if (!state.running) drain();
}

async function drain() {
  state.running = true;
  const status = element('prediction');
  status.setAttribute('aria-busy', 'true'); // announced once the latest reading is shown
  try {
    while (state.queued && state.model) {
      const { final } = state.queued;
      state.queued = null;
      await read(final);
    }
  } catch (error) {
    state.queued = null;
    view.showMessage(`The digit could not be read: ${error.message}`);
  } finally {
    state.running = false;
    status.setAttribute('aria-busy', 'false');
  }
}

/** Preprocess the input, run the model, show the result and record how long each part took. */
async function read(final) {
  if (!state.image && pad.empty) return view.showMessage(DRAW);
  const started = performance.now();
  let image;
  try {
    image = toMnist(state.image ?? pad.pixels());
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return view.showMessage(error.message.replace(/^./, (first) => first.toUpperCase()));
  }
  const preprocessed = performance.now();
  const probabilities = await predict(state.model, image, 1);
  const finished = performance.now();
  const labels = state.model.metadata[META_LABELS] ?? LABELS;
  view.showPrediction(image, probabilities, labels, final);
  view.showTiming(preprocessed - started, finished - preprocessed);
  const detail = { preprocess: preprocessed - started, inference: finished - preprocessed };
  if (performance.getEntriesByName('prediction').length >= MAX_MEASURES) {
    performance.clearMeasures('prediction'); // a long session keeps the timeline bounded
  }
  performance.measure('prediction', { start: started, end: finished, detail });
  if (!state.predicted) performance.mark('first-prediction');
  state.predicted = true;
}

async function open(file) {
  if (!file) return;
  try {
    const { bitmap, rgba } = await decodeImage(file);
    pad.show(bitmap);
    element('source').textContent = `Opened ${file.name} (${bitmap.width} × ${bitmap.height}).`;
    bitmap.close();
    state.image = rgba;
    request(true);
  } catch (error) {
    forgetImage();
    pad.clear();
    view.showMessage(`${file.name}: ${error.message}`);
  }
}

function forgetImage() {
  state.image = null;
  pad.clear();
  element('source').textContent = 'Draw with mouse, finger or pen, or drop an image on the pad.';
}

/** Load (once) and use a model; the first one loaded marks 'model-ready'. */
async function useModel(file) {
  if (!state.loading.has(file)) state.loading.set(file, loadModel(file));
  state.model = await state.loading.get(file);
  if (!performance.getEntriesByName('model-ready').length) performance.mark('model-ready');
  element('model-info').textContent = describeModel(state.model);
  request(true);
}

async function start() {
  view.showMessage('Loading the model…');
  const select = element('model');
  try {
    const models = await listModels();
    for (const { file, bytes } of models) {
      select.add(new Option(`${modelName(file)} (${Math.round(bytes / 1024)} KiB)`, file));
    }
    await useModel(models[0].file);
    select.disabled = false;
    if (pad.empty && !state.image) view.showMessage(DRAW);
  } catch (error) {
    view.showMessage(`The model could not be loaded: ${error.message}`);
  }
  select.addEventListener('change', () =>
    useModel(select.value).catch((error) => view.showMessage(`${select.value}: ${error.message}`)),
  );
}

element('clear').addEventListener('click', () => {
  forgetImage();
  view.showMessage(DRAW);
});
element('open').addEventListener('click', () => element('file').click());
element('file').addEventListener('change', (event) => {
  open(event.target.files[0]);
  event.target.value = ''; // opening the same file again is a change too
});
const dropZone = document.querySelector('.input');
dropZone.addEventListener('dragover', (event) => {
  event.preventDefault();
  dropZone.classList.add('dragging');
});
dropZone.addEventListener('dragleave', () => dropZone.classList.remove('dragging'));
dropZone.addEventListener('drop', (event) => {
  event.preventDefault();
  dropZone.classList.remove('dragging');
  open(event.dataTransfer.files[0]);
});

start();
