#!/usr/bin/python3
"""Exports every torchvision model and converts it into archbert's canonical graphs.

Run with Debian's interpreter (/usr/bin/python3: python3-torch 1.13, python3-torchvision 0.14),
never a pyenv/virtualenv python. See docs/zoo.md for what this produces and how long it takes.

For each model builder torchvision registers (classification, detection, segmentation, video,
optical flow; the quantized variants are excluded, see EXCLUDED_MODULES), one model at a time:

  1. build it with weights=None (and weights_backbone=None), eval mode, and record the ground-truth
     parameter count sum(p.numel() for p in model.parameters());
  2. export TorchScript (torch.jit.script, falling back to torch.jit.trace), then
     `archbert graph NAME.pt --json`            -> data/zoo/tv/NAME.json.gz
  3. export ONNX with BatchNorm preserved (TrainingMode.PRESERVE, no constant folding), then
     `archbert graph NAME.onnx --stats --json`  -> the manifest's onnx_stats (cross-check)
  4. export ONNX the default way (eval mode, constant folding: BatchNorm folded into convs), then
     `archbert graph NAME.onnx --json`          -> data/zoo/tv/NAME.folded.json.gz
  5. delete the model files.

Every export step runs in its own subprocess (one thread, a timeout), so a crash, a hang or a
memory blow-up in one model does not stop the run, and each step's peak memory is measured.
data/zoo/tv/manifest.json is rewritten atomically after each model; a rerun skips models that are
already done (--force redoes them, --retry-failed redoes those with any failure).

`--macs-only` instead counts each model's multiply-accumulates in one forward pass on its example
input (count_macs: convolutions, linear layers, matrix products, nn.MultiheadAttention) and adds
macs, macs_by_kind, macs_input (and macs_network_input for detection) to the existing manifest
entries, one model per worker process, resumable (--force recounts). docs/datasets.md ("Zoo",
FLOPs sentences) says what is counted.

Internal modes: `--step FORMAT --model NAME --out FILE --result FILE` performs one export step;
`--macs-worker --model NAME --task TASK --result FILE` counts one model's MACs.
"""

import argparse
import collections
import gzip
import importlib
import inspect
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "data", "zoo", "tv")
DEFAULT_ARCHBERT = os.path.join(REPO, "build", "archbert")
DEFAULT_TMP = os.path.join(tempfile.gettempdir(), "archbert-zoo-export")

# Task -> torchvision module holding its builders. Classification builders live directly in
# torchvision.models.
TASK_MODULES = [
    ("classification", "torchvision.models"),
    ("detection", "torchvision.models.detection"),
    ("segmentation", "torchvision.models.segmentation"),
    ("video", "torchvision.models.video"),
    ("optical_flow", "torchvision.models.optical_flow"),
]
# Quantized models are excluded: they are int8 re-implementations of classification models that
# are already in the zoo (same architecture plus quant/dequant stubs), built with weights=None
# they are float models that are not quantized at all, and quantized ops do not export to ONNX.
EXCLUDED_MODULES = {"torchvision.models.quantization": "quantized variants of classification "
                    "models already in the zoo (same architecture); not exported"}

STEPS = ("torchscript", "onnx", "onnx_folded")
ONNX_OPSETS = (14, 16)  # 16 adds GridSample (RAFT); 14 is tried first

# Builder module (last component) -> family. Names are refined in family_of().
MODULE_FAMILY = {
    "alexnet": "alexnet", "convnext": "convnext", "densenet": "densenet",
    "efficientnet": "efficientnet", "googlenet": "googlenet", "inception": "inception",
    "maxvit": "maxvit", "mnasnet": "mnasnet", "mobilenetv2": "mobilenet_v2",
    "mobilenetv3": "mobilenet_v3", "regnet": "regnet", "resnet": "resnet",
    "shufflenetv2": "shufflenet", "squeezenet": "squeezenet", "swin_transformer": "swin",
    "vgg": "vgg", "vision_transformer": "vit",
    # detection
    "faster_rcnn": "fasterrcnn", "mask_rcnn": "maskrcnn", "keypoint_rcnn": "keypointrcnn",
    "retinanet": "retinanet", "fcos": "fcos", "ssd": "ssd", "ssdlite": "ssdlite",
    # segmentation
    "fcn": "fcn", "deeplabv3": "deeplabv3", "lraspp": "lraspp",
    # video (torchvision.models.video.resnet holds r3d_18, mc3_18, r2plus1d_18)
    "s3d": "s3d", "mvit": "mvit", "swin_transformer3d": "swin3d",
    # optical flow
    "raft": "raft",
}
# Family -> the design it is a variant of (for "similar architecture" labels). Families not
# listed are their own base design.
BASE_DESIGN = {
    "resnext": "resnet", "wide_resnet": "resnet", "efficientnet_v2": "efficientnet",
    "mobilenet_v2": "mobilenet", "mobilenet_v3": "mobilenet", "swin_v2": "swin",
    "maskrcnn": "fasterrcnn", "keypointrcnn": "fasterrcnn", "ssdlite": "ssd",
    "video_resnet": "resnet",
}
# Backbones named inside detection / segmentation builder names, longest first.
BACKBONES = ("mobilenet_v3_large", "resnet101", "resnet50", "vgg16")


def family_of(name, module, task):
    """Family of a builder from its module, refined by its name for modules with several designs."""
    leaf = module.rsplit(".", 1)[-1]
    if task == "video" and leaf == "resnet":
        return "video_resnet"
    if leaf == "resnet":
        if name.startswith("resnext"):
            return "resnext"
        if name.startswith("wide_resnet"):
            return "wide_resnet"
    if leaf == "efficientnet" and name.startswith("efficientnet_v2"):
        return "efficientnet_v2"
    if leaf == "swin_transformer" and name.startswith("swin_v2"):
        return "swin_v2"
    return MODULE_FAMILY.get(leaf, leaf)


def example_input(name, task):
    """The example input(s) a model is traced/exported with, as the tuple of forward arguments."""
    import torch

    g = torch.Generator().manual_seed(0)
    if task == "classification":
        size = 299 if name == "inception_v3" else 224
        return (torch.rand(1, 3, size, size, generator=g),)
    if task == "segmentation":
        return (torch.rand(1, 3, 224, 224, generator=g),)
    if task == "detection":
        # Detection models take a list of 3xHxW images (their transform resizes them).
        return ([torch.rand(3, 320, 320, generator=g)],)
    if task == "video":
        # MViT has fixed 16x224x224 position embeddings; S3D's final 2x7x7 average pool needs
        # 224x224 frames. The video ResNets take the usual 16x112x112 clips.
        size = 224 if name.startswith(("mvit", "s3d", "swin3d")) else 112
        return (torch.rand(1, 3, 16, size, size, generator=g),)
    if task == "optical_flow":
        # RAFT needs sides divisible by 8 (and 4 correlation-pyramid levels: 128/8 = 16 -> 2).
        return (torch.rand(1, 3, 128, 128, generator=g), torch.rand(1, 3, 128, 128, generator=g))
    raise ValueError(f"unknown task {task}")


def list_builders():
    """[(name, task, module_of_builder)] for every non-excluded registered builder, sorted."""
    import torchvision.models as tvm

    out = []
    seen = set()
    for task, modname in TASK_MODULES:
        mod = importlib.import_module(modname)
        if hasattr(tvm, "list_models"):
            names = tvm.list_models(mod)
        else:  # older torchvision: the builders a module exports
            names = [n for n in getattr(mod, "__all__", []) if callable(getattr(mod, n, None))
                     and n[0].islower()]
        for n in names:
            builder = tvm.get_model_builder(n) if hasattr(tvm, "get_model_builder") else getattr(mod, n)
            out.append((n, task, builder.__module__))
            seen.add(n)
    # Anything registered elsewhere (a new task) is reported, not silently lost.
    registry = getattr(getattr(tvm, "_api", None), "BUILTIN_MODELS", {})
    for n, fn in registry.items():
        if n not in seen and not any(fn.__module__.startswith(m) for m in EXCLUDED_MODULES):
            print(f"warning: builder {n} ({fn.__module__}) is in no known task; skipped",
                  file=sys.stderr)
    return sorted(out)


def excluded_builders():
    import torchvision.models as tvm

    registry = getattr(getattr(tvm, "_api", None), "BUILTIN_MODELS", {})
    return sorted((n, m) for n, fn in registry.items() for m in EXCLUDED_MODULES
                  if fn.__module__.startswith(m))


def short_error(exc):
    """One line: exception type and the first meaningful line of its message."""
    msg = str(exc).strip()
    lines = [l.strip() for l in msg.splitlines() if l.strip()]
    first = lines[0] if lines else ""
    # TorchScript errors put the reason on the first line and source excerpts below. Drop torch's
    # boilerplate ("Please feel free to request support ...").
    first = first.split(" Please feel free")[0]
    text = f"{type(exc).__name__}: {first}"
    return text[:400]


# ----------------------------------------------------------------------------------------------
# Worker: one export step in a fresh process.
# ----------------------------------------------------------------------------------------------

def build_model(name):
    import torch
    import torchvision.models as tvm

    torch.manual_seed(0)
    builder = tvm.get_model_builder(name)
    kwargs = {"weights": None}
    if "weights_backbone" in inspect.signature(builder).parameters:
        kwargs["weights_backbone"] = None
    model = builder(**kwargs)
    model.eval()
    return model


def register_onnx_symbolics():
    """ONNX symbolics torch 1.13 lacks for ops torchvision models use."""
    import torch

    def zero(g, self):
        # aten::zero (Tensor.zero_, Swin V2 zeroes the key part of its qkv bias) -> zeros of
        # the same shape: shape arithmetic plus a constant, no architectural op.
        return g.op("ConstantOfShape", g.op("Shape", self), value_t=torch.tensor([0.0]))

    torch.onnx.register_custom_op_symbolic("aten::zero", zero, 9)


# Source rewrites applied before the ONNX export of a model, each with why and the evidence that
# it does not change what the model computes. name prefix -> (module, function, old, new, why).
ONNX_PATCHES = {
    "mvit_v2": (
        "torchvision.models.video.mvit", "_add_rel_pos",
        "attn[:, :, 1:, 1:] += rel_pos",
        "attn = attn + F.pad(rel_pos, (1, 0, 1, 0))",
        "torch 1.13 exports the in-place slice add as index_put and its shape-inference constant "
        "folding then tries to allocate 10-190 GB (the unpatched export was OOM-killed at 23 GB); "
        "the out-of-place add of the zero-padded rel_pos gives bit-identical outputs",
    ),
}


def apply_onnx_patches(name):
    """Applies the ONNX_PATCHES entry for `name` (if any); returns its description or None."""
    for prefix, (modname, fn, old, new, why) in ONNX_PATCHES.items():
        if not name.startswith(prefix):
            continue
        mod = importlib.import_module(modname)
        src = inspect.getsource(getattr(mod, fn))
        if old not in src:
            return None  # torchvision changed: export unpatched
        ns = dict(mod.__dict__)
        ns["F"] = importlib.import_module("torch.nn.functional")
        exec(src.replace(old, new), ns)  # noqa: S102 - rewriting torchvision's own source
        setattr(mod, fn, ns[fn])
        return f"{modname}.{fn}: `{old}` -> `{new}`"
    return None


def file_bytes(path):
    """Bytes of a file or of everything in the folder holding it (ONNX external data)."""
    folder = os.path.dirname(path)
    total = 0
    for root, _, files in os.walk(folder):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def run_step(step, name, task, out_path):
    """Performs one export step; returns the result dict (never raises)."""
    import torch
    import warnings

    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    res = {"step": step}
    t0 = time.time()
    model = build_model(name)
    res["params"] = int(sum(p.numel() for p in model.parameters()))
    res["build_seconds"] = round(time.time() - t0, 2)
    args = example_input(name, task)
    t0 = time.time()
    if step == "torchscript":
        try:
            torch.jit.script(model).save(out_path)
            res["method"] = "script"
        except Exception as e:  # noqa: BLE001 - any scripting failure falls back to tracing
            res["script_error"] = short_error(e)
            try:
                traced = torch.jit.trace(model, args, strict=False, check_trace=False)
                traced.save(out_path)
                res["method"] = "trace"
            except Exception as e2:  # noqa: BLE001
                res["method"] = "failed"
                res["error"] = short_error(e2)
    else:
        folded = step == "onnx_folded"
        register_onnx_symbolics()
        patch = apply_onnx_patches(name)
        if patch:
            res["patch"] = patch
        errors = []
        for opset in ONNX_OPSETS:
            try:
                kw = dict(opset_version=opset)
                if not folded:
                    kw.update(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
                # Not under torch.no_grad(): without autograd, nn.MultiheadAttention takes its
                # fused fast path (aten::_native_multi_head_attention), which has no ONNX export.
                torch.onnx.export(model, args, out_path, **kw)
                res["method"] = "ok"
                res["opset"] = opset
                break
            except Exception as e:  # noqa: BLE001
                if type(e).__name__ == "CheckerError" and os.path.exists(out_path):
                    # The file is written before torch runs the ONNX checker on it.
                    res["method"] = "ok"
                    res["opset"] = opset
                    res["checker_error"] = short_error(e)
                    break
                errors.append((opset, short_error(e)))
                for f in os.listdir(os.path.dirname(out_path)):
                    os.remove(os.path.join(os.path.dirname(out_path), f))
        else:
            res["method"] = "failed"
            if len({m for _, m in errors}) == 1:
                res["error"] = f"opset {', '.join(str(o) for o, _ in errors)}: {errors[0][1]}"
            else:
                res["error"] = " | ".join(f"opset {o}: {m}" for o, m in errors)
    res["seconds"] = round(time.time() - t0, 2)
    if res["method"] != "failed":
        res["file_bytes"] = file_bytes(out_path)
    return res


def worker_main(args):
    try:
        res = run_step(args.step, args.model, args.task, args.out)
    except Exception as e:  # noqa: BLE001 - report, never crash without a result
        res = {"step": args.step, "method": "failed", "error": short_error(e),
               "traceback": traceback.format_exc()[-2000:]}
    res["maxrss_mb"] = round(vm_hwm_mb(), 1)
    with open(args.result, "w") as f:
        json.dump(res, f)
    return 0


# ----------------------------------------------------------------------------------------------
# Worker: multiply-accumulate count of one model (--macs-only).
# ----------------------------------------------------------------------------------------------

def _numel(shape):
    n = 1
    for d in shape:
        n *= int(d)
    return n


def _einsum_macs(equation, operands):
    """Multiply-accumulates of a two-operand einsum: the product of all index sizes."""
    if len(operands) != 2 or "..." in equation:
        return 0
    ins = equation.replace(" ", "").split("->")[0].split(",")
    sizes = {}
    for term, t in zip(ins, operands):
        for c, d in zip(term, t.shape):
            sizes[c] = int(d)
    return _numel(sizes.values())


def count_macs(model, args):
    """Runs model(*args) once under no_grad; returns ({kind: MACs}, network input shape or None).

    Counted at the functional level (a TorchFunctionMode sees every torch function call), because
    module forward hooks miss work done with a module's weights through torch.nn.functional:
    Swin's attention calls F.linear on its qkv/proj Linear weights, and nn.MultiheadAttention
    calls F.multi_head_attention_forward with its in_proj/out_proj weights. Inside a counted call
    the mode is off, so nothing is counted twice. Per kind:
      conv:   output elements x in_channels/groups x kernel elements (= output numel x weight[0]
              numel), conv1d/2d/3d;
      conv_transpose: input elements x out_channels/groups x kernel elements;
      linear: output elements x in_features;
      matmul: torch.matmul / @ / mm / bmm / addmm / baddbmm: output elements x inner dimension;
              two-operand einsum: product of all index sizes (attention scores and their
              application to values, RAFT's correlation volume, ...);
      attention (nn.MultiheadAttention): q/k/v in-projections + Q.K^T + A.V + out-projection,
              L*N*E*E + S*N*(kdim+vdim)*E + 2*N*L*S*E + L*N*E*E.
    Not counted: normalisation, activations, pooling, element-wise arithmetic, interpolation,
    RoI align, NMS (all small next to the above).
    """
    import torch
    import torch.nn.functional as F
    from torch.overrides import TorchFunctionMode

    macs = collections.Counter()
    convs = {torch.conv1d, torch.conv2d, torch.conv3d, F.conv1d, F.conv2d, F.conv3d}
    tconvs = {torch.conv_transpose1d, torch.conv_transpose2d, torch.conv_transpose3d,
              F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d}
    mm_names = {"matmul", "__matmul__", "__rmatmul__", "mm", "bmm"}
    add_mm_names = {"addmm", "baddbmm", "addbmm"}

    class Counter(TorchFunctionMode):
        def __torch_function__(self, func, types, fargs=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*fargs, **kwargs)
            name = getattr(func, "__name__", "")
            try:
                if func in convs:
                    w = fargs[1] if len(fargs) > 1 else kwargs["weight"]
                    macs["conv"] += out.numel() * w[0].numel()
                elif func in tconvs:
                    w = fargs[1] if len(fargs) > 1 else kwargs["weight"]
                    macs["conv_transpose"] += fargs[0].numel() * w[0].numel()
                elif func is F.linear or func is torch._C._nn.linear:
                    w = fargs[1] if len(fargs) > 1 else kwargs["weight"]
                    macs["linear"] += out.numel() * w.shape[-1]
                elif name in mm_names and len(fargs) >= 1 and isinstance(out, torch.Tensor):
                    a = fargs[0]
                    macs["matmul"] += out.numel() * a.shape[-1]
                elif name in add_mm_names and len(fargs) >= 3:
                    macs["matmul"] += out.numel() * fargs[1].shape[-1]
                elif name == "einsum":
                    ops = fargs[1:]
                    if len(ops) == 1 and isinstance(ops[0], (list, tuple)):
                        ops = ops[0]
                    macs["matmul"] += _einsum_macs(fargs[0], list(ops))
                elif func is F.multi_head_attention_forward:
                    q, k, v = fargs[0], fargs[1], fargs[2]
                    e = q.shape[-1]
                    lq, s = q.shape[0], k.shape[0]
                    n = q.shape[1] if q.dim() == 3 else 1
                    macs["attention"] += (lq * n * e * e + s * n * k.shape[-1] * e
                                          + s * n * v.shape[-1] * e + 2 * n * lq * s * e
                                          + lq * n * e * e)
            except (AttributeError, IndexError, KeyError, TypeError):
                pass
            return out

    seen = {}
    hook = None
    backbone = getattr(model, "backbone", None)
    if backbone is not None and hasattr(model, "transform"):
        # Detection models resize (and pad) their images before the backbone: record what the
        # network actually sees.
        def pre(_, inp):
            if "shape" not in seen and inp and isinstance(inp[0], torch.Tensor):
                seen["shape"] = list(inp[0].shape)
        hook = backbone.register_forward_pre_hook(pre)
    with torch.no_grad(), Counter():
        model(*args)
    if hook is not None:
        hook.remove()
    return {k: int(v) for k, v in sorted(macs.items()) if v}, seen.get("shape")


def macs_worker_main(args):
    import torch
    import warnings

    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    t0 = time.time()
    try:
        model = build_model(args.model)
        inputs = example_input(args.model, args.task)
        by_kind, resized = count_macs(model, inputs)
        res = {"macs": sum(by_kind.values()), "macs_by_kind": by_kind,
               "macs_input": [list(a[0].shape) if isinstance(a, list) else list(a.shape)
                              for a in inputs]}
        if resized:
            res["macs_network_input"] = resized
    except Exception as e:  # noqa: BLE001 - report, never crash without a result
        res = {"error": short_error(e), "traceback": traceback.format_exc()[-2000:]}
    res["seconds"] = round(time.time() - t0, 2)
    with open(args.result, "w") as f:
        json.dump(res, f)
    return 0


def run_macs(builders, args, manifest, manifest_path):
    """--macs-only: adds macs, macs_by_kind, macs_input (and macs_network_input for detection)
    to each manifest entry, one model at a time in a fresh worker process; resumable."""
    todo = [b for b in builders if b[0] in manifest and (
        args.force or ("macs" not in manifest[b[0]]
                       and ("macs_error" not in manifest[b[0]] or args.retry_failed)))]
    missing = [b[0] for b in builders if b[0] not in manifest]
    if missing:
        print(f"warning: not in the manifest (export them first), skipped: {missing}",
              file=sys.stderr)
    print(f"{len(builders)} models selected, {len(todo)} to count", flush=True)
    t_run = time.time()
    os.makedirs(args.tmp, exist_ok=True)
    result_file = os.path.join(args.tmp, "macs-result.json")
    for i, (name, task, _) in enumerate(todo, 1):
        if os.path.exists(result_file):
            os.remove(result_file)
        cmd = [sys.executable, os.path.abspath(__file__), "--macs-worker", "--model", name,
               "--task", task, "--result", result_file]
        rc, rss, secs, err = run_limited(cmd, args.timeout, mem_limit_gb=args.max_memory_gb)
        res = {}
        if os.path.exists(result_file):
            with open(result_file) as f:
                res = json.load(f)
        entry = manifest[name]
        for k in ("macs", "macs_by_kind", "macs_input", "macs_network_input", "macs_error"):
            entry.pop(k, None)
        if "macs" in res:
            for k in ("macs", "macs_by_kind", "macs_input", "macs_network_input"):
                if k in res:
                    entry[k] = res[k]
            status = f"{res['macs'] / 1e9:10.3f} GMACs"
        else:
            if rc is None:
                entry["macs_error"] = f"timeout after {args.timeout} s"
            else:
                entry["macs_error"] = res.get("error") or (
                    last_line(err) or ("killed (out of memory?)" if rc == -9 else "no message"))
            status = "failed: " + entry["macs_error"][:80]
        print(f"[{i}/{len(todo)}] {name:40s} {status}  {secs:7.1f} s {rss:7.0f} MB", flush=True)
        write_manifest(manifest_path, manifest)
    print(f"done: {len(todo)} models in {time.time() - t_run:.0f} s; manifest {manifest_path}")
    return 0


# ----------------------------------------------------------------------------------------------
# Orchestrator.
# ----------------------------------------------------------------------------------------------

def one_thread_env():
    env = dict(os.environ)
    for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[k] = "1"
    return env


def vm_hwm_mb(pid="self"):
    """Peak resident memory of a live process in MB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_limited(cmd, timeout, stdout=None, mem_limit_gb=0):
    """Runs cmd in its own process group; returns (returncode or None on timeout, maxrss_mb,
    seconds). The group is killed on timeout."""

    def limit():
        if mem_limit_gb:
            import resource

            b = int(mem_limit_gb * (1 << 30))
            resource.setrlimit(resource.RLIMIT_AS, (b, b))

    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE, env=one_thread_env(),
                         start_new_session=True, preexec_fn=limit if mem_limit_gb else None)
    # Drain stderr in the background so a chatty child never blocks on a full pipe.
    err = io.BytesIO()
    def drain():
        for chunk in iter(lambda: p.stderr.read(65536), b""):
            if err.tell() < (1 << 20):
                err.write(chunk)

    th = threading.Thread(target=drain, daemon=True)
    th.start()
    # Peak memory: the child's VmHWM, polled. (getrusage/wait4 ru_maxrss would include this
    # process's own RSS, which the child inherits across fork+exec.)
    rc, rss = None, 0.0
    while True:
        rss = max(rss, vm_hwm_mb(p.pid))
        pid, status, _ = os.wait4(p.pid, os.WNOHANG)
        if pid:
            rc = os.waitstatus_to_exitcode(status)
            p.returncode = rc
            break
        if time.time() - t0 > timeout:
            os.killpg(p.pid, signal.SIGKILL)
            os.wait4(p.pid, 0)
            p.returncode = -9
            break
        time.sleep(0.1)
    th.join(timeout=5)
    return rc, round(rss, 1), round(time.time() - t0, 2), err.getvalue().decode("utf-8", "replace")


def last_line(text):
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    return lines[-1][:400] if lines else ""


def write_gz(path, data):
    """Writes gzip bytes reproducibly (no file name, mtime 0), atomically."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as g:
        g.write(data)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(buf.getvalue())
    os.replace(tmp, path)


def write_manifest(path, manifest):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def graph_summary(j):
    """The manifest's stats object from a graph JSON document or a --stats document."""
    if "nodes" in j and isinstance(j["nodes"], list):
        ops = collections.Counter(n.get("op", "?") for n in j["nodes"])
        return {"nodes": len(j["nodes"]), "edges": len(j.get("edges", [])),
                "params": j.get("params"), "bn_folded": j.get("bn_folded"),
                "other_nodes": ops.get("other", 0), "ops": dict(sorted(ops.items())),
                "fingerprint": j.get("fingerprint")}
    keep = ("nodes", "edges", "params", "bn_folded", "depth", "other_nodes", "ops", "fingerprint")
    return {k: j[k] for k in keep if k in j}


def convert(archbert, model_file, tmp_dir, stats, timeout):
    step_dir = os.path.dirname(model_file)
    """Runs `archbert graph FILE --json [--stats]`; returns (status, json_text or None, info)."""
    if not (archbert and os.path.isfile(archbert) and os.access(archbert, os.X_OK)):
        return f"failed: archbert binary not found at {archbert}", None, {}
    cmd = [archbert, "graph", model_file, "--json"] + (["--stats"] if stats else [])
    out_file = os.path.join(tmp_dir, "archbert-out.json")
    with open(out_file, "wb") as out:
        rc, rss, secs, err = run_limited(cmd, timeout, stdout=out)
    info = {"seconds": secs, "maxrss_mb": rss}
    with open(out_file, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    os.remove(out_file)
    if rc is None:
        return f"failed: timeout after {timeout} s", None, info
    if rc != 0:
        msg = last_line(err).replace(step_dir + "/", "") or "no message"
        return f"failed: exit {rc}: {msg}", None, info
    # Reproducibility: the temporary folder's path must not leak into committed files.
    for d in (step_dir, tmp_dir):
        text = text.replace(d + "/", "").replace(d, "")
    try:
        json.loads(text)
    except ValueError as e:
        return f"failed: output is not JSON: {e}", None, info
    return "ok", text, info


def bench_import(bench, model_file, timeout):
    """Median of 10 warm imports (bench/import_bench.cpp), in ms; None when unavailable."""
    if not (bench and os.path.isfile(bench) and os.access(bench, os.X_OK)):
        return None
    try:
        p = subprocess.run([bench, "--runs", "10", "--json", model_file], capture_output=True,
                           timeout=timeout, env=one_thread_env())
        rows = json.loads(p.stdout.decode()) if p.returncode == 0 else []
        return round(rows[0]["median_ms"], 2) if rows else None
    except (subprocess.TimeoutExpired, ValueError, KeyError, IndexError):
        return None


def is_done(entry, export_only, retry_failed):
    if not entry or not entry.get("done"):
        return False
    if entry.get("mode") == "export-only" and not export_only:
        return False
    if retry_failed:
        statuses = list(entry.get("export", {}).values()) + list(entry.get("convert", {}).values())
        if any(str(s).startswith("failed") for s in statuses):
            return False
    return True


def process_model(name, task, module, args, manifest, versions):
    entry = {"task": task, "family": family_of(name, module, task), "builder_module": module,
             "exported_with": versions, "export": {}, "times": {}, "memory_mb": {},
             "file_mb": {}}
    fam = entry["family"]
    entry["base_design"] = BASE_DESIGN.get(fam, fam)
    if task in ("detection", "segmentation"):
        entry["backbone"] = next((b for b in BACKBONES if b in name), None)
    shape = example_input(name, task)
    entry["example_input"] = [list(a[0].shape) if isinstance(a, list) else list(a.shape)
                              for a in shape]
    if not args.export_only:
        entry["convert"] = {}
    old = manifest.get(name) or {}
    if set(args.steps) != set(STEPS) and old:
        # A partial rerun (--steps) keeps what the other steps recorded.
        for key in ("export", "convert", "times", "memory_mb", "file_mb", "onnx_opset", "import_ms"):
            if isinstance(old.get(key), dict):
                entry.setdefault(key, {}).update(
                    {k: v for k, v in old[key].items() if k.split("_convert")[0] not in args.steps})
        for key in ("params", "script_error", "torchscript_stats", "onnx_stats",
                    "onnx_folded_stats", "checker_error", "onnx_patch"):
            if key in old:
                entry[key] = old[key]
    tmp_root = args.tmp
    mode = "export-only" if args.export_only else "full"
    t_model = time.time()
    for step in args.steps:
        step_dir = os.path.join(tmp_root, step)
        shutil.rmtree(step_dir, ignore_errors=True)
        os.makedirs(step_dir)
        ext = ".pt" if step == "torchscript" else ".onnx"
        model_file = os.path.join(step_dir, name + ext)
        result_file = os.path.join(tmp_root, "result.json")
        if os.path.exists(result_file):
            os.remove(result_file)
        cmd = [sys.executable, os.path.abspath(__file__), "--step", step, "--model", name,
               "--task", task, "--out", model_file, "--result", result_file]
        rc, rss, secs, err = run_limited(cmd, args.timeout, mem_limit_gb=args.max_memory_gb)
        res = {}
        if os.path.exists(result_file):
            with open(result_file) as f:
                res = json.load(f)
        if rc is None:
            status = f"failed: timeout after {args.timeout} s"
        elif not res:
            why = last_line(err) or ("killed (out of memory?)" if rc == -9 else "no message")
            status = f"failed: worker exit {rc}: {why}"
        else:
            status = res["method"]
            if status == "failed":
                status = "failed: " + res.get("error", "unknown")
        if step != "torchscript" and res.get("opset") and not status.startswith("failed"):
            entry.setdefault("onnx_opset", {})[step] = res["opset"]
        if res.get("patch"):
            entry["onnx_patch"] = res["patch"]
        if res.get("script_error"):
            entry["script_error"] = res["script_error"]
        if res.get("checker_error"):
            entry.setdefault("checker_error", {})[step] = res["checker_error"]
        if "params" in res:
            entry["params"] = res["params"]
        entry["export"][step] = status
        entry["times"][step] = secs
        rss = max(rss, res.get("maxrss_mb", 0))
        entry["memory_mb"][step] = rss
        if res.get("file_bytes") is not None:
            entry["file_mb"][step] = round(res["file_bytes"] / (1 << 20), 1)
        line = f"  {step:12s} {status[:90]:90s} {secs:8.1f} s {rss:8.0f} MB"
        if not status.startswith("failed") and not args.export_only:
            conv, text, info = convert(args.archbert, model_file, tmp_root,
                                       stats=(step == "onnx"), timeout=args.convert_timeout)
            entry["convert"][step] = conv
            entry["times"][step + "_convert"] = info.get("seconds")
            if info.get("maxrss_mb") is not None:
                entry["memory_mb"][step + "_convert"] = info["maxrss_mb"]
            if text is not None:
                j = json.loads(text)
                if step == "torchscript":
                    write_gz(os.path.join(args.out_dir, name + ".json.gz"), text.encode())
                    entry["torchscript_stats"] = graph_summary(j)
                elif step == "onnx":
                    entry["onnx_stats"] = graph_summary(j)
                else:
                    write_gz(os.path.join(args.out_dir, name + ".folded.json.gz"), text.encode())
                    entry["onnx_folded_stats"] = graph_summary(j)
            if conv == "ok":
                ms = bench_import(args.bench, model_file, args.convert_timeout)
                if ms is not None:
                    entry.setdefault("import_ms", {})[step] = ms
            line += f"  convert: {conv[:60]}"
        print(line, flush=True)
        shutil.rmtree(step_dir, ignore_errors=True)
    entry["times"]["total"] = round(time.time() - t_model, 2)
    entry["mode"] = mode
    entry["done"] = True
    return entry


def report(manifest):
    """Markdown table of the manifest (docs/zoo.md), by task then name."""
    order = {t: i for i, (t, _) in enumerate(TASK_MODULES)}
    rows = sorted(manifest.items(), key=lambda kv: (order.get(kv[1].get("task"), 99), kv[0]))
    out = ["| model | task | family | params | TorchScript | ONNX | ONNX folded | "
           "seconds | peak MB | file MB |", "|---|---|---|---:|---|---|---|---:|---:|---:|"]

    def cell(e, step):
        st = e.get("export", {}).get(step, "-")
        conv = e.get("convert", {}).get(step)
        opset = e.get("onnx_opset", {}).get(step)
        if opset and opset != ONNX_OPSETS[0]:
            st += f" (opset {opset})"
        if conv and conv != "ok":
            st += "; convert failed"
        return st.replace("|", "/")

    for n, e in rows:
        mem = max(e.get("memory_mb", {}).values(), default=0)
        fmb = max(e.get("file_mb", {}).values(), default=0)
        out.append(f"| {n} | {e.get('task')} | {e.get('family')} | {e.get('params', '?'):,} | "
                   f"{cell(e, 'torchscript')} | {cell(e, 'onnx')} | {cell(e, 'onnx_folded')} | "
                   f"{e.get('times', {}).get('total', 0):.0f} | {mem:.0f} | {fmb:.0f} |")
    total = sum(e.get("times", {}).get("total", 0) for e in manifest.values())
    out.append("")
    out.append(f"{len(manifest)} models, {total:.0f} s in total.")
    return "\n".join(out)


def versions_string():
    import torch
    import torchvision

    return f"torch {torch.__version__}, torchvision {torchvision.__version__}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="See docs/zoo.md.")
    ap.add_argument("--archbert", default=DEFAULT_ARCHBERT, help="archbert binary (%(default)s)")
    ap.add_argument("--bench", default=os.path.join(os.path.dirname(DEFAULT_ARCHBERT), "bench", "archbert-bench-import"),
                    help="import benchmark binary; its median of 10 warm runs goes to import_ms (%(default)s)")
    ap.add_argument("--out-dir", default=DEFAULT_OUT, help="output folder (%(default)s)")
    ap.add_argument("--tmp", default=DEFAULT_TMP,
                    help="scratch folder for model files, emptied after each model (%(default)s)")
    ap.add_argument("--only", help="comma-separated model names")
    ap.add_argument("--task", help="comma-separated tasks: " + ",".join(t for t, _ in TASK_MODULES))
    ap.add_argument("--steps", default=",".join(STEPS), help="subset of " + ",".join(STEPS))
    ap.add_argument("--force", action="store_true", help="redo models already in the manifest")
    ap.add_argument("--retry-failed", action="store_true",
                    help="redo models whose export or conversion failed")
    ap.add_argument("--export-only", action="store_true",
                    help="export, record ground truth, methods and times, delete; no conversion")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per export step")
    ap.add_argument("--convert-timeout", type=float, default=900, help="seconds per conversion")
    ap.add_argument("--max-memory-gb", type=float, default=16,
                    help="address-space limit per export step, GB (0: none; default %(default)s)")
    ap.add_argument("--list", action="store_true", help="print the models and exit")
    ap.add_argument("--macs-only", action="store_true",
                    help="only count multiply-accumulates (one forward pass on the example input) "
                    "and add macs, macs_by_kind, macs_input to the manifest entries")
    ap.add_argument("--report", action="store_true",
                    help="print the manifest as a markdown table (docs/zoo.md) and exit")
    # Internal worker mode.
    ap.add_argument("--step", choices=STEPS, help=argparse.SUPPRESS)
    ap.add_argument("--macs-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--model", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.step:
        return worker_main(args)
    if args.macs_worker:
        return macs_worker_main(args)
    if args.report:
        with open(os.path.join(args.out_dir, "manifest.json")) as f:
            print(report(json.load(f)))
        return 0

    builders = list_builders()
    tasks = {t for t, _ in TASK_MODULES}
    if args.task:
        want = set(args.task.split(","))
        bad = want - tasks
        if bad:
            ap.error(f"unknown task(s) {sorted(bad)}; choose from {sorted(tasks)}")
        builders = [b for b in builders if b[1] in want]
    if args.only:
        want = args.only.split(",")
        known = {b[0] for b in builders}
        bad = [n for n in want if n not in known]
        if bad:
            ap.error(f"unknown model(s) {bad} (see --list)")
        builders = [b for b in builders if b[0] in want]
    args.steps = [s for s in args.steps.split(",") if s]
    if any(s not in STEPS for s in args.steps):
        ap.error(f"--steps must be a subset of {','.join(STEPS)}")
    if args.list:
        for n, t, m in builders:
            print(f"{n:40s} {t:14s} {family_of(n, m, t)}")
        for n, m in excluded_builders():
            print(f"{n:40s} excluded ({m})")
        return 0

    os.makedirs(args.out_dir, exist_ok=True)
    os.makedirs(args.tmp, exist_ok=True)
    args.tmp = os.path.realpath(args.tmp)
    manifest_path = os.path.join(args.out_dir, "manifest.json")
    manifest = {}
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            manifest = json.load(f)
    if args.macs_only:
        return run_macs(builders, args, manifest, manifest_path)
    if not args.export_only and not os.path.isfile(args.archbert):
        print(f"warning: {args.archbert} not found; conversions will be recorded as failed",
              file=sys.stderr)
    versions = versions_string()
    todo = [b for b in builders
            if args.force or not is_done(manifest.get(b[0]), args.export_only, args.retry_failed)]
    print(f"{len(builders)} models selected, {len(builders) - len(todo)} already done, "
          f"{len(todo)} to do ({'export only' if args.export_only else 'export + convert'})",
          flush=True)
    t_run = time.time()
    for i, (name, task, module) in enumerate(todo, 1):
        print(f"[{i}/{len(todo)}] {name} ({task}) elapsed {time.time() - t_run:.0f} s", flush=True)
        entry = process_model(name, task, module, args, manifest, versions)
        manifest[name] = entry
        write_manifest(manifest_path, manifest)
    shutil.rmtree(args.tmp, ignore_errors=True)
    print(f"done: {len(todo)} models in {time.time() - t_run:.0f} s; manifest {manifest_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
