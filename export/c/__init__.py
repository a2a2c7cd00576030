"""C for a microcontroller from an mnist-edge ONNX model (`mnist-edge export-c`).

lower.py reads the graph into layers (QDQ folded), plan.py schedules them row by row and
places every tensor in one arena, emit.py writes mnist_model.h and mnist_model.c with the
kernels of kernels.py; arith.py holds the int8 path's arithmetic. Needs numpy and onnx only.
"""
