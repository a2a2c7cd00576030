// The model's own metadata (ModelProto.metadata_props), read straight from the .onnx bytes.
//
// onnxruntime-web does not expose metadata_props, and a build-time copy could drift from the
// file it describes, so the page reads the protobuf itself: only the top level of ModelProto
// is walked, and the graph (nearly all of the file) is skipped in one step.

const METADATA_PROPS = 14; // ModelProto field: repeated StringStringEntryProto
const KEY = 1; // StringStringEntryProto fields
const VALUE = 2;
const VARINT = 0; // protobuf wire types
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/** {key: value} of the model's metadata_props (strings, as stored). */
export function readMetadata(bytes) {
  const metadata = {};
  for (const [field, entry] of fields(bytes)) {
    if (field !== METADATA_PROPS) continue;
    const pair = {};
    for (const [part, text] of fields(entry)) pair[part] = new TextDecoder().decode(text);
    if (KEY in pair) metadata[pair[KEY]] = pair[VALUE] ?? '';
  }
  return metadata;
}

/** [field number, bytes] of each length-delimited field of a message; other fields skipped. */
function* fields(bytes) {
  const reader = { bytes, offset: 0 };
  while (reader.offset < bytes.length) {
    const tag = varint(reader);
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (wireType === VARINT) varint(reader);
    else if (wireType === FIXED64) reader.offset += 8;
    else if (wireType === FIXED32) reader.offset += 4;
    else if (wireType === LENGTH_DELIMITED) {
      const length = varint(reader);
      const start = reader.offset;
      reader.offset += length;
      if (reader.offset > bytes.length) throw new Error('not an ONNX model (truncated field)');
      yield [field, bytes.subarray(start, reader.offset)];
    } else throw new Error(`not an ONNX model (wire type ${wireType})`);
  }
}

function varint(reader) {
  let value = 0;
  for (let scale = 1; ; scale *= 128) {
    if (reader.offset >= reader.bytes.length) throw new Error('not an ONNX model (truncated)');
    const byte = reader.bytes[reader.offset++];
    value += (byte & 0x7f) * scale; // no bit operators: lengths can pass 2^31
    if (byte < 0x80) return value;
  }
}
