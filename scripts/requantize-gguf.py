#!/usr/bin/env python3
"""Requantizes the Q4_1 matrices of a GGUF to another block type with gguf-py's quantizer
(dequantize, then quantize), keeping every other tensor and all metadata. For benchmarks of
other weight formats (e.g. the Q4_0 roofline of `slimlm bench --roofline`): a Q4_0 made
from Q4_1 codes is not the quality of one made from the original floats, but it moves the
same bytes and runs the same kernels. Never commit the output (models/ is git-ignored).

    python3 scripts/requantize-gguf.py models/SmolLM2-135M-Instruct.Q4_1.gguf Q4_0 \\
        models/SmolLM2-135M-Instruct.Q4_0-ggufpy.gguf

The names models/SmolLM2-135M-Instruct.<TYPE>.gguf belong to the files that
scripts/compare-llamacpp.py makes with llama.cpp's llama-quantize (and uses as they are
when present): write this script's output under another name.
"""
import sys
import numpy as np
from gguf import GGUFReader, GGUFWriter, GGMLQuantizationType, GGUFValueType
from gguf.quants import dequantize, quantize

src, qname, dst = sys.argv[1], sys.argv[2], sys.argv[3]
target = GGMLQuantizationType[qname]
r = GGUFReader(src)
arch = r.fields["general.architecture"].contents()
w = GGUFWriter(dst, arch)
for name, field in r.fields.items():
    if name.startswith("GGUF.") or name in ("general.architecture", "general.file_type"):
        continue
    vtype = field.types[0]
    sub = field.types[1] if vtype == GGUFValueType.ARRAY else None
    w.add_key_value(name, field.contents(), vtype, sub_type=sub)
# llama.cpp's file type ids (LLAMA_FTYPE_MOSTLY_*): informational only.
w.add_file_type({"Q4_0": 2, "Q4_1": 3, "Q8_0": 7}[qname])
for t in r.tensors:
    shape = tuple(int(d) for d in reversed(t.shape))  # numpy order: rows, cols
    if t.tensor_type == GGMLQuantizationType.Q4_1:
        x = dequantize(t.data, t.tensor_type).reshape(shape)
        q = quantize(x.astype(np.float32), target)
        w.add_tensor(t.name, q, raw_shape=q.shape, raw_dtype=target)
    else:
        w.add_tensor(t.name, t.data, raw_shape=t.data.shape, raw_dtype=t.tensor_type)
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
print(f"wrote {dst}")
