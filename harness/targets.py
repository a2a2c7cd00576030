"""The issues' targets, stated once for every test and benchmark that checks them (the
exporter's gates and the runtime's limits live in the code; the tests hold the code to these
numbers, and the model card's table reports the figures against them)."""

MLP_TEST_ACCURACY = 0.975  # the tutorial's recipe gives about 0.979
CNN_TEST_ACCURACY = 0.993  # the small CNN trained on augmented digits
PARITY_TOLERANCE = 1e-5  # largest |p_reference - p_onnx| accepted on any probability
PARITY_BACKENDS = ("onnxruntime", "onnx-reference")  # two independent ONNX implementations
TEST_IMAGES = 10_000  # parity and accuracy are measured on the whole MNIST test split
INT8_MAX_SIZE_RATIO = 0.30  # the MLP's int8 file against its float file
INT8_MAX_DROP = 0.005  # accuracy an int8 model may lose against its float twin
CNN_MAX_PARAMETERS = 100_000
CNN_INT8_MAX_BYTES = 150_000  # "<= 150 KB"
CNN_INT8_MAX_DROP = 0.003
CNN_WILD_ACCURACY = 0.99  # on the wild digit set (harness/wild_digits.py)
CNN_OTHER_MARGIN_POINTS = 5.0  # above the tutorial MLP on the non-MNIST set
CNN_THROUGHPUT_RATIO = 0.20  # of the MLP's images/s at batch 1,024

# The service under abuse (issue 20)
ANSWER_UNDER_ABUSE_SECONDS = 2.0  # a normal request's answer while other clients abuse it
MAX_PROCESS_MB = 300  # resident memory of a process, whatever an input or a client does
GIVEN_BACK_MIB = 20  # resident memory once an abuse has ended, above what it was before
