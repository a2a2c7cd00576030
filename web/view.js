// What `mnist-edge show` shows, on the page: the 28x28 image the model receives, the ten
// probabilities as bars with the predicted digit highlighted, and the model's own description.

import { IMAGE_SIZE, META_QUANTIZATION, META_TRAINING, modelName } from './contract.js';

const element = (id) => document.getElementById(id);

export class View {
  constructor(labels) {
    this.status = element('prediction');
    this.seen = element('seen').getContext('2d');
    this.bars = labels.map((label) => bar(element('bars'), label));
    this.announced = null; // the digit last put into the status line
  }

  /** A prediction: `probabilities` of the digits for `image` (uint8 28x28). `final` when the
   *  pen has lifted: while drawing, the status changes only with the digit, so a screen
   *  reader is not flooded with percentages. */
  showPrediction(image, probabilities, labels, final) {
    this.showImage(image);
    const best = argmax(probabilities);
    this.bars.forEach((item, digit) => item.set(probabilities[digit], digit === best));
    if (final || labels[best] !== this.announced) {
      this.status.textContent = `${labels[best]} (${percent(probabilities[best])} sure)`;
      this.status.classList.add('digit');
      this.announced = labels[best];
    }
  }

  /** No prediction: a message in the status line, an empty image, empty bars. */
  showMessage(message) {
    this.showImage(new Uint8Array(IMAGE_SIZE * IMAGE_SIZE));
    this.bars.forEach((item) => item.set(0, false));
    this.status.textContent = message;
    this.status.classList.remove('digit');
    this.announced = null;
    element('timing').textContent = '';
  }

  showImage(image) {
    const pixels = new ImageData(IMAGE_SIZE, IMAGE_SIZE);
    image.forEach((value, i) => pixels.data.set([value, value, value, 255], 4 * i));
    this.seen.putImageData(pixels, 0, 0);
  }

  showTiming(preprocess, inference) {
    const total = preprocess + inference;
    element('timing').textContent =
      `Read in ${milliseconds(total)} on this device ` +
      `(preprocessing ${milliseconds(preprocess)}, model ${milliseconds(inference)}).`;
  }
}

/** One line about a model, from its own metadata: file, size, kind, test accuracy. */
export function describeModel(model) {
  const training = model.metadata[META_TRAINING] ?? {};
  const quantization = model.metadata[META_QUANTIZATION];
  const parts = [modelName(model.file), `${Math.round(model.bytes / 1024)} KiB`];
  parts.push(quantization ? `int8 (${quantization.format ?? 'quantized'})` : 'float32');
  if (typeof training.test_accuracy === 'number') {
    const accuracy = `${(100 * training.test_accuracy).toFixed(2)}%`;
    // the exporter records the accuracy measured before quantization
    parts.push(`test accuracy ${accuracy}${quantization ? ' (float model)' : ''}`);
  }
  if (training.epochs) parts.push(`${training.epochs} epochs, seed ${training.seed ?? '-'}`);
  return parts.join(' · ');
}

function bar(list, label) {
  const item = document.createElement('li');
  item.innerHTML = `<span class="label"></span>
    <span class="track"><span class="fill"></span></span><span class="value"></span>`;
  item.querySelector('.label').textContent = label;
  list.append(item);
  const fill = item.querySelector('.fill');
  const value = item.querySelector('.value');
  return {
    set(probability, predicted) {
      fill.style.width = `${(100 * probability).toFixed(1)}%`;
      value.textContent = percent(probability);
      item.classList.toggle('predicted', predicted);
    },
  };
}

export function argmax(values) {
  let best = 0;
  values.forEach((value, i) => {
    if (value > values[best]) best = i;
  });
  return best;
}

function percent(probability) {
  return `${(100 * probability).toFixed(1)}%`;
}

function milliseconds(value) {
  return `${value.toFixed(1)} ms`;
}
