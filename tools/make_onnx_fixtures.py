#!/usr/bin/python3
"""Makes the tiny ONNX fixtures of the archbert test suite (tests/data/onnx/).

Usage: /usr/bin/python3 tools/make_onnx_fixtures.py [OUTPUT_DIR]   (default: tests/data/onnx)

Uses Debian's python3-torch / python3-torchvision only (no onnx Python package: the two
fixtures that need rewriting are edited with the small protobuf wire-format codec below).
Most fixtures are exported with export_params=False, so they hold no weights and stay a few KB.
Writes fixtures.json: {file: {"params": sum(p.numel() for p in model.parameters())}}.
"""
import json
import os
import sys
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

PRESERVE = torch.onnx.TrainingMode.PRESERVE


# ---------------------------------------------------------------- models

class TinyCnn(nn.Module):
    """conv-bn-relu, maxpool, conv-bn-relu6, global pool, flatten, linear."""

    def __init__(self, bn=True):
        super().__init__()
        norm = nn.BatchNorm2d if bn else (lambda c: nn.Identity())
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=not bn)
        self.bn1 = norm(8)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1, bias=not bn)
        self.bn2 = norm(16)
        self.head = nn.Linear(16, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.pool(x)
        x = F.relu6(self.bn2(self.conv2(x)))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.head(x)


class Opset7Net(nn.Module):
    """Ops whose ONNX form changed since opset 7: Clip (attributes), BN (spatial), pools."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.smooth = nn.AvgPool2d(3, stride=1, padding=1)
        self.pool = nn.MaxPool2d(3, stride=2)
        self.fc = nn.Linear(4, 5)

    def forward(self, x):
        x = F.relu6(self.bn(self.conv(x)))
        x = self.pool(x + F.leaky_relu(self.smooth(x), 0.1))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


class ConvZoo(nn.Module):
    """Grouped, depthwise, dilated and transposed convolutions."""

    def __init__(self):
        super().__init__()
        self.plain = nn.Conv2d(4, 8, 3, padding=1)
        self.grouped = nn.Conv2d(8, 8, 3, padding=1, groups=2)
        self.depthwise = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.dilated = nn.Conv2d(8, 8, 3, padding=2, dilation=2)
        self.dilated_dw = nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=8)
        self.up = nn.ConvTranspose2d(8, 4, 2, stride=2)

    def forward(self, x):
        x = self.dilated_dw(self.dilated(self.depthwise(self.grouped(self.plain(x)))))
        return self.up(x)


class Activations(nn.Module):
    """SiLU, Hardswish (decomposed below opset 14), Mish and tanh-GELU between convs."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 4, 1)
        self.c2 = nn.Conv2d(4, 4, 1)
        self.c3 = nn.Conv2d(4, 4, 1)
        self.c4 = nn.Conv2d(4, 4, 1)
        self.silu, self.hswish, self.mish = nn.SiLU(), nn.Hardswish(), nn.Mish()
        self.gelu = nn.GELU(approximate="tanh")

    def forward(self, x):
        x = self.silu(self.c1(x))
        x = self.hswish(self.c2(x))
        x = self.mish(self.c3(x))
        return self.gelu(self.c4(x))


class Mlp3d(nn.Module):
    """Linear layers on a 3-D input: PyTorch exports each as MatMul + Add."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class TiedLm(nn.Module):
    """Embedding whose table is reused (tied) by the output projection."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 8)
        self.lin = nn.Linear(8, 8)
        self.head = nn.Linear(8, 20, bias=False)
        self.head.weight = self.emb.weight

    def forward(self, ids):
        return self.head(torch.tanh(self.lin(self.emb(ids))))


class LoopIf(nn.Module):
    """A scripted loop (ONNX Loop) whose body runs a conv, then an If."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)
        self.fc = nn.Linear(3, 2)

    def forward(self, x, n: int):
        for _ in range(n):
            x = torch.relu(self.conv(x))
        if bool(x.sum() > 0):
            x = x * 2.0
        else:
            x = x - 1.0
        return self.fc(x.mean((2, 3)))


# ---------------------------------------------------------------- protobuf wire codec

def _varint(b, i):
    v, shift = 0, 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v, i


def _put_varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def decode(b):
    """Message bytes -> [(field, wire_type, value)]; value is bytes for wire type 2."""
    fields, i = [], 0
    while i < len(b):
        tag, i = _varint(b, i)
        f, wt = tag >> 3, tag & 7
        if wt == 0:
            v, i = _varint(b, i)
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        elif wt == 2:
            n, i = _varint(b, i)
            v, i = b[i:i + n], i + n
        else:
            raise ValueError("unsupported wire type %d" % wt)
        fields.append((f, wt, v))
    return fields


def encode(fields):
    out = bytearray()
    for f, wt, v in fields:
        out += _put_varint(f << 3 | wt)
        if wt == 0:
            out += _put_varint(v)
        elif wt == 2:
            out += _put_varint(len(v)) + v
        else:
            out += v
    return bytes(out)


def _string(f, s):
    return (f, 2, s.encode() if isinstance(s, str) else s)


def rewrite_graph(path, fn):
    """Applies fn(graph_fields) -> graph_fields to the ModelProto in `path`."""
    with open(path, "rb") as fh:
        model = decode(fh.read())
    model = [(f, wt, encode(fn(decode(v))) if f == 7 else v) for f, wt, v in model]
    with open(path, "wb") as fh:
        fh.write(encode(model))


def to_external(data_file):
    """Every initializer's bytes -> external data in `data_file` (which is not written)."""

    def fn(graph):
        out, offset = [], 0
        for f, wt, v in graph:
            if f == 5:  # initializer
                tensor = [x for x in decode(v) if x[0] != 9]  # drop raw_data
                length = len([x for x in decode(v) if x[0] == 9][0][2])
                for key, value in (("location", data_file), ("offset", str(offset)),
                                   ("length", str(length))):
                    tensor.append(_string(13, encode([_string(1, key), _string(2, value)])))
                tensor.append((14, 0, 1))  # data_location = EXTERNAL
                offset += length
                v = encode(tensor)
            out.append((f, wt, v))
        return out

    return fn


def initializers_to_constants(graph):
    """Moves every initializer into a Constant node (as some converters emit weights)."""
    consts, rest = [], []
    for f, wt, v in graph:
        if f == 5:
            name = [x for x in decode(v) if x[0] == 8][0][2]
            attr = encode([_string(1, "value"), (20, 0, 4), _string(5, v)])  # type TENSOR
            consts.append(_string(1, encode([_string(2, name), _string(3, b"Const_" + name),
                                             _string(4, "Constant"), _string(5, attr)])))
        else:
            rest.append((f, wt, v))
    first_node = next(i for i, x in enumerate(rest) if x[0] == 1)
    return rest[:first_node] + consts + rest[first_node:]


# ---------------------------------------------------------------- main

def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "onnx")
    os.makedirs(out, exist_ok=True)
    warnings.filterwarnings("ignore")
    torch.manual_seed(0)
    truth = {}
    image = torch.randn(1, 3, 16, 16)

    def export(name, model, args, **kw):
        model.eval()
        kw.setdefault("export_params", False)
        torch.onnx.export(model, args, os.path.join(out, name), **kw)
        truth[name] = {"params": sum(p.numel() for p in model.parameters())}

    preserve = dict(training=PRESERVE, do_constant_folding=False)
    # Weights as graph inputs (export_params=False), BatchNorm kept.
    export("tiny_cnn_noparams.onnx", TinyCnn(), (image,), **preserve)
    # Default eval export: BatchNorm folded into the convolutions.
    export("tiny_cnn_folded_noparams.onnx", TinyCnn(), (image,))
    # Same net without BatchNorm, default export: must not be flagged bn_folded.
    export("tiny_cnn_plain_noparams.onnx", TinyCnn(bn=False), (image,))
    export("opset7_noparams.onnx", Opset7Net(), (image,), opset_version=7, **preserve)
    export("convs_noparams.onnx", ConvZoo(), (torch.randn(1, 4, 8, 8),), **preserve)
    export("activations_opset13_noparams.onnx", Activations(), (image,), opset_version=13,
           **preserve)
    # Default export: constant folding stores each MatMul weight pre-transposed, (in, out).
    export("mlp3d_default_noparams.onnx", Mlp3d(), (torch.randn(2, 5, 8),), opset_version=14)
    export("tied_noparams.onnx", TiedLm(), (torch.tensor([[1, 2, 3]]),), **preserve)
    # GroupNorm before opset 18: Reshape -> InstanceNormalization -> Reshape -> Mul -> Add.
    groupnorm = nn.Sequential(nn.Conv2d(3, 8, 3), nn.GroupNorm(4, 8), nn.ReLU(),
                              nn.GroupNorm(2, 8, affine=False))
    export("groupnorm_noparams.onnx", groupnorm, (image,), opset_version=14, **preserve)
    vit = torchvision.models.VisionTransformer(image_size=32, patch_size=16, num_layers=1,
                                               num_heads=2, hidden_dim=16, mlp_dim=32,
                                               num_classes=10)
    export("tiny_vit_noparams.onnx", vit, (torch.randn(1, 3, 32, 32),), opset_version=14,
           **preserve)
    export("loop_if_noparams.onnx", torch.jit.script(LoopIf()), (image, 2), opset_version=14,
           input_names=["x", "n"])

    # Weights in an external data file that is not shipped: only dims are needed.
    export("external_data.onnx", TinyCnn(), (image,), export_params=True, **preserve)
    rewrite_graph(os.path.join(out, "external_data.onnx"), to_external("external_data.bin"))
    # Weights held by Constant nodes instead of initializers.
    small = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(4, 3))
    export("constant_weights.onnx", small, (image,), export_params=True, **preserve)
    rewrite_graph(os.path.join(out, "constant_weights.onnx"), initializers_to_constants)

    with open(os.path.join(out, "fixtures.json"), "w") as fh:
        json.dump(truth, fh, indent=2, sort_keys=True)
        fh.write("\n")
    for name in sorted(truth):
        print("%-40s %6d bytes  %d params" % (name, os.path.getsize(os.path.join(out, name)),
                                              truth[name]["params"]))


if __name__ == "__main__":
    main()
