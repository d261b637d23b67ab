"""`device="cpu-strict"`: run a lab on the CPU as strictly as a GPU would check it.

A notebook that runs on the CPU can still fail on CUDA or Apple's MPS: a module left on the CPU
while its input is on the GPU, a `.numpy()` of a GPU tensor, float64 (MPS has none). On the CPU
every tensor lives in the same memory, so none of these raise. `pick_device("cpu-strict")`
returns the CPU device `cpu:0` and installs `StrictDevice`, a torch function mode that keeps
the books a GPU would keep:

- a tensor is *on the lab's device* ("tagged") when it was made with `device=dev`, moved with
  `.to(dev)` (or `module.to(dev)`: its parameters and buffers), read as `.grad` of a tagged
  tensor, computed from a tagged tensor, or deep-copied from one (`copy.deepcopy(model)`);
  `.cpu()` / `.to("cpu")` give an untagged copy (an alias, on the CPU), and `tensor.device`
  says `cpu:0` for tagged tensors, `cpu` otherwise, so code that follows `x.device` behaves as
  on a GPU;
- an op that mixes a tagged tensor with an untagged one of one or more dimensions raises
  `DeviceMismatch`, naming the op and both tensors (0-dim CPU tensors mix with GPU tensors on
  CUDA too, and are allowed); `copy_` and `.to` may cross devices; indexing a tagged tensor
  with CPU indices is allowed, as on CUDA;
- `.numpy()` (and `np.asarray`) of a tagged tensor raises, as on CUDA;
- a tagged float64 (or complex128) tensor raises, as on MPS.

It checks the ops called from Python (each `torch.*`, `F.*` and tensor method); what happens
inside one (autograd's backward, a fused kernel) is not seen and not needed. Cost: a few
microseconds per op, so a smoke run stays in seconds. `runtime.has_float64(dev)` is False for
the strict device, so helpers take their MPS code path under it.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

LAB_DEVICE = torch.device("cpu", 0)  # compares unequal to torch.device("cpu"): that is the tag's key
_TAG = "_on_lab_device"
_NO_FLOAT64 = (torch.float64, torch.complex128)


class DeviceMismatch(RuntimeError):
    """What CUDA or MPS would have raised here: tensors on two devices, `.numpy()` of a GPU tensor, float64 on MPS."""


def on_device(t) -> bool:
    """Whether `t` is a tensor tagged as living on the lab's (strict) device."""
    return isinstance(t, torch.Tensor) and t.__dict__.get(_TAG, False)


def _set(t: torch.Tensor, tagged: bool) -> torch.Tensor:
    t.__dict__[_TAG] = tagged
    return t


def _is_lab(device) -> bool:
    if device is None:
        return False
    return torch.device(device) == LAB_DEVICE if isinstance(device, (str, torch.device)) else False


def _describe(t: torch.Tensor) -> str:
    where = "the lab's device (cpu-strict)" if on_device(t) else "the CPU"
    return f"a {str(t.dtype).replace('torch.', '')} tensor of shape {tuple(t.shape)} on {where}"


def _name(func) -> str:
    owner = getattr(func, "__self__", None)
    if owner is not None and hasattr(owner, "__name__") and func.__name__ in ("__get__", "__set__"):
        return f"Tensor.{owner.__name__}"
    qual = getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)
    module = getattr(func, "__module__", "") or ""
    qual = qual.replace("_VariableFunctionsClass.", "torch.").replace("TensorBase.", "Tensor.")
    if module in ("torch._C._nn", "torch.nn.functional"):
        return f"F.{qual}"
    return qual if module.startswith("torch._C") or "." in qual else f"{module}.{qual}".lstrip(".")


def _tensors(args, kwargs):
    """Tensors among the arguments, one level into lists, tuples and dicts (foreach ops take lists)."""
    for a in (*args, *kwargs.values()):
        if isinstance(a, torch.Tensor):
            yield a
        elif isinstance(a, (list, tuple)):
            yield from (b for b in a if isinstance(b, torch.Tensor))
        elif isinstance(a, dict):
            yield from (b for b in a.values() if isinstance(b, torch.Tensor))


def _outputs(result):
    if isinstance(result, torch.Tensor):
        yield result
    elif isinstance(result, (list, tuple)):
        yield from (r for r in result if isinstance(r, torch.Tensor))


def _check_dtype(t: torch.Tensor, func) -> None:
    if t.dtype in _NO_FLOAT64:
        raise DeviceMismatch(
            f"{_name(func)} made {_describe(_set(t, True))}: MPS (Apple GPUs) has no {t.dtype}, so this fails there. "
            "Compute in float32 on the device, or move the data to the CPU (.cpu()) for float64 work."
        )


_GET = torch._C.TensorBase.__dict__  # descriptors: device, grad, data ...
_DEVICE_GET = _GET["device"].__get__
_GRAD_GET = _GET["grad"].__get__
_TO, _CPU, _COPY = torch.Tensor.to, torch.Tensor.cpu, torch.Tensor.copy_
_NUMPY = (torch.Tensor.numpy, torch.Tensor.__array__)
_GETITEM, _SETITEM = torch.Tensor.__getitem__, torch.Tensor.__setitem__
_T = torch.Tensor
_PASS = {
    _T.__repr__,
    _T.__format__,
    _T.item,
    _T.tolist,
    _T.size,
    _T.dim,
    _T.numel,
    _T.__len__,
    _T.set_,
    _T.__reduce_ex__,
    _T.__deepcopy__,
    _T.storage,
    _T.untyped_storage,
    _T.data_ptr,
}


class StrictDevice(TorchFunctionMode):
    """The torch function mode behind `device="cpu-strict"` (see the module docstring)."""

    quiet = 0  # > 0 while a Module.to moves tensors itself

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if self.quiet or func in _PASS:
            return func(*args, **kwargs)
        if func == _DEVICE_GET:
            return LAB_DEVICE if on_device(args[0]) else func(*args, **kwargs)
        if func == _GRAD_GET:
            grad = func(*args, **kwargs)
            return _set(grad, True) if grad is not None and on_device(args[0]) else grad
        if func in _NUMPY and on_device(args[0]):
            raise DeviceMismatch(
                f"{_name(func)} of {_describe(args[0])}: NumPy cannot read GPU memory, so this fails on CUDA "
                "and MPS. Call .cpu() first (e.g. x.detach().cpu().numpy())."
            )
        if func is _TO or func is _CPU:
            return self._move(func, args, kwargs)
        tensors = list(_tensors(args, kwargs))
        tagged = [t for t in tensors if on_device(t)]
        if "device" in kwargs and kwargs["device"] is not None:
            lab = _is_lab(kwargs["device"])
        else:
            lab = bool(tagged)
        if tagged and func is not _COPY:
            if func is _GETITEM:  # x[cpu_indices] is fine on CUDA; cpu_x[gpu_indices] is not
                loose = [] if on_device(args[0]) else tagged
                culprit = args[0]
            else:
                loose = [t for t in tensors if not on_device(t) and t.dim() > 0]
                culprit = loose[0] if loose else None
            if loose:
                other = tagged[0] if culprit is not tagged[0] else tagged[-1]
                raise DeviceMismatch(
                    f"{_name(func)} mixes {_describe(other)} with {_describe(culprit)}: on a GPU this raises "
                    "'Expected all tensors to be on the same device'. Move the CPU one with .to(device) "
                    "(a module: model.to(device)), or create it with device=..."
                )
        result = func(*args, **kwargs)
        if lab:
            for out in _outputs(result):
                if out is args[0] and func is _COPY:
                    continue
                _check_dtype(out, func)
                _set(out, True)
        return result

    def _move(self, func, args, kwargs):
        """`.to(...)` and `.cpu()`: decide where the result lives; give it its own Python object if it changes."""
        src = args[0]
        if func is _CPU:
            lab = False
        else:
            rest = args[1:]
            if rest and isinstance(rest[0], torch.Tensor):
                lab = on_device(rest[0])
            else:
                device = torch._C._nn._parse_to(*rest, **kwargs)[0]
                lab = on_device(src) if device is None else device == LAB_DEVICE
        result = func(*args, **kwargs)
        if lab != on_device(src) and result is src:
            result = src.view_as(src)  # a new Python object on the other "device", sharing memory as the CPU allows
        if lab:
            _check_dtype(result, func)
        return _set(result, lab)


_MODE: StrictDevice | None = None
_MODULE_TO = nn.Module.to


def _module_to(self, *args, **kwargs):
    """nn.Module.to under the strict mode: tag (or untag) every parameter, buffer and gradient it moves."""
    device, dtype, *_ = torch._C._nn._parse_to(*args, **kwargs)
    mode = _MODE
    if mode is None:
        return _MODULE_TO(self, *args, **kwargs)
    mode.quiet += 1
    try:
        out = _MODULE_TO(self, *args, **kwargs)
    finally:
        mode.quiet -= 1
    tensors = [*self.parameters(), *self.buffers()]
    tensors += [p.grad for p in self.parameters() if p.grad is not None]
    for t in tensors:
        lab = on_device(t) if device is None else device == LAB_DEVICE
        if lab and t.dtype in _NO_FLOAT64:
            _check_dtype(t, nn.Module.to)
        _set(t, lab)
    return out


def _module_cpu(self):
    return _module_to(self, "cpu")


_PARAM_DEEPCOPY = nn.Parameter.__deepcopy__


def _param_deepcopy(self, memo):
    """copy.deepcopy of a parameter (copy.deepcopy(model)) stays on its device, as on CUDA."""
    return _set(_PARAM_DEEPCOPY(self, memo), on_device(self))


def enable() -> torch.device:
    """Install the strict mode for the rest of this process (the kernel); return the lab's device."""
    global _MODE
    if _MODE is None:
        _MODE = StrictDevice()
        _MODE.__enter__()
        nn.Module.to = _module_to
        nn.Module.cpu = _module_cpu
        nn.Parameter.__deepcopy__ = _param_deepcopy
    return LAB_DEVICE


def disable() -> None:
    """Remove the strict mode (tests)."""
    global _MODE
    if _MODE is not None:
        _MODE.__exit__(None, None, None)
        _MODE = None
        nn.Module.to = _MODULE_TO
        nn.Module.cpu = _MODULE_CPU
        nn.Parameter.__deepcopy__ = _PARAM_DEEPCOPY


_MODULE_CPU = nn.Module.cpu


def active() -> bool:
    return _MODE is not None
