"""The C kernels, as templates: the generator copies only those a model needs (C99, no libm,
no malloc). Dense layers and convolutions have one template each, filled with a `Types`:
float from the uint8 image, float, or int8 (uint8 activations, int8 weights, int32
accumulators, requantized to uint8).

Float kernels add in a fixed order, so that every C99 compiler (with -ffp-contract=off, the
default of -std=c99) gives the same bits on every machine. Integer kernels accumulate in
int32 and requantize exactly as onnxruntime does (see arith.py).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Types:
    """What fills a dense or convolution template."""

    name: str  # the kernels' suffix, and the dot product they call (dot_<name>)
    x_t: str  # input element
    w_t: str  # weight
    acc_t: str  # accumulator (and bias)
    out_t: str  # output element
    last: str  # the last parameter: what finishes an output value
    finish: str  # C expression of `value` (the accumulator) and `oc` (its channel)

    def fill(self, template: str) -> str:
        """The template with its placeholders (NAME, X_T, ... FINISH) replaced."""
        for placeholder, value in (
            ("NAME", self.name), ("X_T", self.x_t), ("W_T", self.w_t), ("ACC_T", self.acc_t),
            ("OUT_T", self.out_t), ("LAST", self.last), ("FINISH", self.finish),
        ):  # fmt: skip
            template = template.replace(placeholder, value)
        return template


RELU = "relu && value < 0.0f ? 0.0f : value"
FLOAT_FROM_IMAGE = Types("u8", "uint8_t", "float", "float", "float", "int relu", RELU)
FLOAT = Types("f32", "float", "float", "float", "float", "int relu", RELU)
INT8 = Types(
    "q", "uint8_t", "int8_t", "int32_t", "uint8_t", "const struct requant *rq",
    "requantize(value, rq, oc)",
)  # fmt: skip

CONV_SHAPE = """\
/* A convolution over HWC rows: (width, channels) per row in and out. */
struct conv_shape {
    int in_width, in_channels;
    int out_width, out_channels;
    int kernel_h, kernel_w, stride_w, pad_left;
};

/* The kernel columns of output column ox that fall inside the input: [*first, *last). */
static void kernel_span(const struct conv_shape *shape, int ox, int *first, int *last)
{
    int x0 = ox * shape->stride_w - shape->pad_left;
    *first = x0 < 0 ? -x0 : 0;
    *last = x0 + shape->kernel_w > shape->in_width ? shape->in_width - x0 : shape->kernel_w;
}
"""

DOT_FLOAT = """\
/* Added in order (the n % 4 first ones, then four at a time): fewer loop instructions. */
static float dot_NAME(const X_T *x, const float *w, int n)
{
    float sum = 0.0f;
    int i, head = n % 4;
    for (i = 0; i < head; i++)
        sum += (float)x[i] * w[i];
    for (; i < n; i += 4) {
        sum += (float)x[i] * w[i];
        sum += (float)x[i + 1] * w[i + 1];
        sum += (float)x[i + 2] * w[i + 2];
        sum += (float)x[i + 3] * w[i + 3];
    }
    return sum;
}
"""

DOT_INT8 = """\
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
/* A Cortex-M4/M7: four bytes a load, two multiply-accumulates an SMLAD (bytes 0 and 2, then
   1 and 3, widened to 16 bits). Integer sums: the same result as the loop below. */
#include <arm_acle.h>
#include <string.h>

static int32_t dot_q(const uint8_t *x, const int8_t *w, int n)
{
    int32_t sum = 0;
    int i, head = n % 4;
    uint32_t xs, ws;
    for (i = 0; i < head; i++)
        sum += (int32_t)x[i] * w[i];
    for (; i < n; i += 4) {
        memcpy(&xs, x + i, sizeof xs);
        memcpy(&ws, w + i, sizeof ws);
        sum = __smlad(__uxtb16(xs), __sxtb16(ws), sum);
        xs = xs >> 8 | xs << 24; /* rotated: bytes 1 and 3 where 0 and 2 were */
        ws = ws >> 8 | ws << 24;
        sum = __smlad(__uxtb16(xs), __sxtb16(ws), sum);
    }
    return sum;
}
#else
static int32_t dot_q(const uint8_t *x, const int8_t *w, int n)
{
    int32_t sum = 0;
    int i, head = n % 4;
    for (i = 0; i < head; i++)
        sum += (int32_t)x[i] * w[i];
    for (; i < n; i += 4)
        sum += (int32_t)x[i] * w[i] + (int32_t)x[i + 1] * w[i + 1]
            + (int32_t)x[i + 2] * w[i + 2] + (int32_t)x[i + 3] * w[i + 3];
    return sum;
}
#endif
"""

DENSE = """\
/* y = finish(W x + b), W (outputs, inputs) row-major. */
static void dense_NAME(const X_T *x, const W_T *weights, const ACC_T *bias, OUT_T *y,
                       int inputs, int outputs, LAST)
{
    int oc;
    for (oc = 0; oc < outputs; oc++) {
        ACC_T value = bias[oc] + dot_NAME(x, weights + oc * inputs, inputs);
        y[oc] = FINISH;
    }
}
"""

CONV_ROW = """\
/* One output row; rows[ky] is the input row under kernel row ky (NULL: padding). */
static void conv_row_NAME(const X_T *const rows[], const W_T *weights, const ACC_T *bias,
                          OUT_T *out, const struct conv_shape *shape, LAST)
{
    int ox, oc, ky, first, last;
    int window = shape->kernel_h * shape->kernel_w * shape->in_channels;
    for (ox = 0; ox < shape->out_width; ox++) {
        int x0 = ox * shape->stride_w - shape->pad_left;
        kernel_span(shape, ox, &first, &last);
        for (oc = 0; oc < shape->out_channels; oc++) {
            ACC_T value = bias[oc];
            for (ky = 0; ky < shape->kernel_h; ky++) {
                if (rows[ky] == NULL)
                    continue;
                value += dot_NAME(rows[ky] + (x0 + first) * shape->in_channels,
                                  weights + oc * window
                                      + (ky * shape->kernel_w + first) * shape->in_channels,
                                  (last - first) * shape->in_channels);
            }
            out[ox * shape->out_channels + oc] = FINISH;
        }
    }
}
"""

CONV_SCATTER = """\
/* Scatter mode: accumulators start at the bias, take one input row (kernel row ky) at a
   time, in the same order as conv_row's sum, and are finished when the last has come. */
static void conv_open_NAME(ACC_T *acc, const ACC_T *bias, const struct conv_shape *shape)
{
    int ox, oc;
    for (ox = 0; ox < shape->out_width; ox++)
        for (oc = 0; oc < shape->out_channels; oc++)
            acc[ox * shape->out_channels + oc] = bias[oc];
}

static void conv_add_NAME(const X_T *row, int ky, const W_T *weights, ACC_T *acc,
                          const struct conv_shape *shape)
{
    int ox, oc, first, last;
    int window = shape->kernel_h * shape->kernel_w * shape->in_channels;
    for (ox = 0; ox < shape->out_width; ox++) {
        int x0 = ox * shape->stride_w - shape->pad_left;
        kernel_span(shape, ox, &first, &last);
        for (oc = 0; oc < shape->out_channels; oc++)
            acc[ox * shape->out_channels + oc] += dot_NAME(
                row + (x0 + first) * shape->in_channels,
                weights + oc * window + (ky * shape->kernel_w + first) * shape->in_channels,
                (last - first) * shape->in_channels);
    }
}

static void conv_finish_NAME(const ACC_T *acc, OUT_T *out, const struct conv_shape *shape,
                             LAST)
{
    int ox, oc;
    for (ox = 0; ox < shape->out_width; ox++)
        for (oc = 0; oc < shape->out_channels; oc++) {
            ACC_T value = acc[ox * shape->out_channels + oc];
            out[ox * shape->out_channels + oc] = FINISH;
        }
}
"""

EXP_FLOAT = """\
/* e^x for x <= 0 (a softmax's logits minus their largest), to about one float32 ulp, with
   float arithmetic only: x = n ln2 + r, |r| <= ln2 / 2, e^r by its Taylor series to r^7. */
static float exp_nonpositive(float x)
{
    const float ln2_high = 0.693145751953125f, ln2_low = 1.42860677e-06f;
    float r, p, power;
    uint32_t bits;
    int n;
    if (x < -87.0f)
        return 0.0f;
    n = (int)(x * 1.44269504f - 0.5f);
    r = (x - (float)n * ln2_high) - (float)n * ln2_low;
    p = 1.0f + r * (1.0f + r * (0.5f + r * (1.66666667e-1f + r * (4.16666667e-2f
        + r * (8.33333333e-3f + r * (1.38888889e-3f + r * 1.98412698e-4f))))));
    bits = (uint32_t)(n + 127) << 23;
    memcpy(&power, &bits, sizeof power);
    return p * power;
}

static void softmax_f32(const float *x, float *y, int n)
{
    float largest = x[0], sum = 0.0f;
    int i;
    for (i = 1; i < n; i++)
        if (x[i] > largest)
            largest = x[i];
    for (i = 0; i < n; i++) {
        y[i] = exp_nonpositive(x[i] - largest);
        sum += y[i];
    }
    for (i = 0; i < n; i++)
        y[i] /= sum;
}
"""

REQUANTIZE = """\
/* Requantization in integers, bit-exact with onnxruntime's float32 version,
   round_half_even(float32(float32(acc) * scale)), where scale = multiplier * 2^-shift. */
struct requant {
    const int32_t *multiplier; /* 2^23 <= m < 2^24, one per output channel */
    const int8_t *shift;
    int32_t zero_point, lowest; /* lowest: the zero point after a Relu, else 0 */
};

static int bit_length32(uint32_t value)
{
    int length = 0;
    if (value >> 16) {
        value >>= 16;
        length += 16;
    }
    if (value >> 8) {
        value >>= 8;
        length += 8;
    }
    if (value >> 4) {
        value >>= 4;
        length += 4;
    }
    if (value >> 2) {
        value >>= 2;
        length += 2;
    }
    if (value >> 1) {
        value >>= 1;
        length += 1;
    }
    return length + (int)value;
}

static int bit_length(uint64_t value)
{
    uint32_t high = (uint32_t)(value >> 32);
    return high ? 32 + bit_length32(high) : bit_length32((uint32_t)value);
}

/* value with its bits below the 24 most significant rounded off, half to even: the integer a
   float32 would hold. */
static uint64_t round_to_24_bits(uint64_t value)
{
    int drop = bit_length(value) - 24;
    uint64_t kept, rest, half;
    if (drop <= 0)
        return value;
    kept = value >> drop;
    rest = value & (((uint64_t)1 << drop) - 1);
    half = (uint64_t)1 << (drop - 1);
    if (rest > half || (rest == half && (kept & 1u)))
        kept++;
    return kept << drop;
}

static uint8_t requantize(int32_t acc, const struct requant *rq, int channel)
{
    uint32_t magnitude;
    int shift;
    uint64_t product, whole, rest, half;
    int32_t value;
    if (acc <= 0 && rq->lowest >= rq->zero_point)
        return (uint8_t)rq->lowest; /* after a Relu: every value <= 0 becomes its zero */
    magnitude = acc < 0 ? 0u - (uint32_t)acc : (uint32_t)acc;
    shift = rq->shift[channel];
    product = round_to_24_bits(
        round_to_24_bits(magnitude) * (uint64_t)(uint32_t)rq->multiplier[channel]);
    whole = product >> shift;
    rest = product & (((uint64_t)1 << shift) - 1);
    half = (uint64_t)1 << (shift - 1);
    if (rest > half || (rest == half && (whole & 1u)))
        whole++;
    if (whole > 512u) /* beyond any uint8 either way */
        whole = 512u;
    value = (acc < 0 ? -(int32_t)whole : (int32_t)whole) + rq->zero_point;
    return (uint8_t)(value < rq->lowest ? rq->lowest : value > 255 ? 255 : value);
}
"""

SOFTMAX_INT8 = """\
/* onnxruntime's QLinearSoftmax: table[255 - largest + x] is e^(x scale) up to a common
   factor; the quotient is scaled, rounded half to even (v < 2^23: exact) and offset. */
static void softmax_q(const uint8_t *x, uint8_t *y, int n, const float table[256],
                      float quotient_scale, int zero_point)
{
    const float *shifted;
    float sum = 0.0f;
    int i, largest = 0;
    for (i = 0; i < n; i++)
        if (x[i] > largest)
            largest = x[i];
    shifted = table + 255 - largest;
    for (i = 0; i < n; i++)
        sum += shifted[x[i]];
    for (i = 0; i < n; i++) {
        float value = shifted[x[i]] * quotient_scale / sum;
        uint32_t whole = (uint32_t)value;
        float rest = value - (float)whole;
        if (rest > 0.5f || (rest == 0.5f && (whole & 1u)))
            whole++;
        whole += (uint32_t)zero_point;
        y[i] = (uint8_t)(whole > 255u ? 255u : whole);
    }
}
"""

DEQUANTIZE = """\
static void dequantize(const uint8_t *x, float *y, int n, float scale, int zero_point)
{
    int i;
    for (i = 0; i < n; i++)
        y[i] = (float)((int32_t)x[i] - zero_point) * scale;
}
"""

ARGMAX = """\
static int argmax(const float *values, int n)
{
    int best = 0, i;
    for (i = 1; i < n; i++)
        if (values[i] > values[best])
            best = i;
    return best;
}
"""
