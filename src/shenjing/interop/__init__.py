"""Interoperation: the ``.shj`` model file (save/load) and ONNX export."""
