"""Writers of the benign corpus: model files made by the real libraries, into a folder.

Each `write_*` function imports its library lazily, writes its files into `out` and returns
{label: path}. The torch and transformers writers run in a child process (`python -m
tests.modelfile.benign_corpus torch OUT`): a file saved in the test process could pickle objects
by reference to test code, and the child keeps torch's import out of the test worker.
Everything is tiny (a few kB to a few hundred kB) and seeded.
"""

from __future__ import annotations

import inspect
import os
import pickle
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

# A Llama-2-style chat template, as GGUF conversions and tokenizer_config.json files carry it.
LLAMA2_TEMPLATE = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}{% else %}"
    "{% set loop_messages = messages %}{% set system_message = false %}{% endif %}"
    "{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}"
    "{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}"
    "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ ' ' + content.strip() + ' ' + eos_token }}"
    "{% endif %}{% endfor %}"
)
# A Llama-3-style one (header tokens, `add_generation_prompt`, `trim`).
LLAMA3_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
    " + message['content'] | trim + '<|eot_id|>' %}"
    "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}"
    "{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
    "{% endif %}"
)


def in_child(kind: str, out: Path) -> dict[str, Path]:
    """Run `write_<kind>` in a fresh interpreter; the labels are read back from its stdout."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.modelfile.benign_corpus", kind, str(out)],
        timeout=300,
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
    )
    if done.returncode != 0:
        raise RuntimeError(f"writing the {kind} corpus failed:\n{done.stderr[-4000:]}")
    pairs = (line.split("\t", 1) for line in done.stdout.splitlines() if "\t" in line)
    return {label: Path(path) for label, path in pairs}


# --- torch -------------------------------------------------------------------------------


def write_torch(out: Path) -> dict[str, Path]:
    import random

    import numpy as np
    import torch
    from torch import nn

    torch.manual_seed(0)
    random.seed(0)
    np.random.seed(0)
    files: dict[str, Path] = {}

    def save(label: str, obj: Any, name: str, **kwargs: Any) -> None:
        files[label] = out / name
        torch.save(obj, files[label], **kwargs)

    model = nn.Sequential(
        nn.Linear(6, 8), nn.BatchNorm1d(8), nn.GELU(), nn.Linear(8, 4), nn.LayerNorm(4)
    )
    adam = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=0.01)
    sgd = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    step = torch.optim.lr_scheduler.StepLR(adam, step_size=2, gamma=0.5)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(sgd, T_max=10)
    for _ in range(2):
        for opt in (adam, sgd):
            opt.zero_grad()
            model(torch.randn(4, 6)).pow(2).mean().backward()
            opt.step()
        step.step()
        cosine.step()
    checkpoint = {
        "epoch": 2,
        "global_step": 8,
        "model_state_dict": model.state_dict(),
        "optimizer_state_dict": adam.state_dict(),
        "sgd_state_dict": sgd.state_dict(),
        "scheduler_state_dict": step.state_dict(),
        "cosine_state_dict": cosine.state_dict(),
        "best_metric": np.float64(0.875),
        "history": {"loss": [1.5, 0.75], "lr": np.array([1e-3, 5e-4])},
        "rng_state": {
            "torch": torch.get_rng_state(),
            "numpy": np.random.get_state(),
            "python": random.getstate(),
            "numpy_generator": np.random.default_rng(0).bit_generator.state,
        },
        "config": {"hidden": 8, "dropout": 0.1, "name": "tiny", "layers": (6, 8, 4)},
    }
    save("checkpoint", checkpoint, "checkpoint.pt")
    save(
        "checkpoint-legacy",
        checkpoint,
        "checkpoint-legacy.pt",
        _use_new_zipfile_serialization=False,
    )
    save("module-legacy", model, "module-legacy.pt", _use_new_zipfile_serialization=False)
    recurrent = nn.ModuleDict(
        {
            "embed": nn.Embedding(16, 8),
            "lstm": nn.LSTM(8, 8),
            "gru": nn.GRU(8, 8),
            "attn": nn.MultiheadAttention(8, 2),
        }
    )
    save("module-recurrent", recurrent, "module-recurrent.pt")
    base = torch.randn(4, 4)
    save(
        "dtypes",
        {
            "bf16": base.to(torch.bfloat16),
            "fp16": base.half(),
            "int8": (base * 10).to(torch.int8),
            "bool": base > 0,
            "uint8": torch.arange(8, dtype=torch.uint8),
            "int64": torch.arange(8),
            "complex": torch.randn(2, dtype=torch.complex64),
            "view": base[1:3, ::2],
            "shared": [base, base],
        },
        "dtypes.pt",
    )
    qint8 = torch.quantize_per_tensor(base, scale=0.1, zero_point=0, dtype=torch.qint8)
    quint8 = torch.quantize_per_channel(
        base, torch.tensor([0.1, 0.2, 0.3, 0.4]), torch.tensor([0, 1, 2, 3]), 0, torch.quint8
    )
    save("quantized", {"qint8": qint8, "quint8_per_channel": quint8}, "quantized.pt")
    dynamic = torch.ao.quantization.quantize_dynamic(
        nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 4)), {nn.Linear}, torch.qint8
    )
    save("dynamic-quantized-state", dynamic.state_dict(), "dynamic-quantized.pt")
    dense = torch.tensor([[0.0, 1.5, 0.0], [2.0, 0.0, 0.0]])
    sparse = {"coo": dense.to_sparse(), "csr": dense.to_sparse_csr(), "csc": dense.to_sparse_csc()}
    save("sparse", sparse, "sparse.pt")
    # Raw storages whose first byte is an EXT1/EXT2/EXT4 opcode (about 1 tensor in 85 by chance)
    lookalike = {
        f"ext{n}": torch.tensor([op, 0x70, 0xBB, 0x01, 0xFF], dtype=torch.uint8)
        for n, op in ((1, 0x82), (2, 0x83), (4, 0x84))
    }
    lookalike["ext4-cut"] = torch.tensor([0x84, 0x10], dtype=torch.uint8)
    save("ext-lookalike-storages", lookalike, "ext-lookalike.pt")
    nested = torch.nested.nested_tensor([torch.randn(2, 3), torch.randn(4, 3)])
    save("nested", {"nested": nested}, "nested.pt")
    save("fp16-state-dict", model.half().state_dict(), "fp16.pt")
    model.float()
    files["torchscript"] = out / "scripted.pt"
    torch.jit.save(torch.jit.script(model.eval()), files["torchscript"])
    files.update(write_safetensors_torch(out))
    try:  # the TorchScript-based exporter needs no onnxscript; skipped where unavailable
        torch.onnx.export(
            model.eval(),
            (torch.randn(2, 6),),
            str(out / "torch-export.onnx"),
            dynamo=False,
            input_names=["x"],
            output_names=["y"],
        )
        files["torch-onnx"] = out / "torch-export.onnx"
    except Exception as err:  # pragma: no cover - depends on the torch build
        print(f"torch.onnx.export unavailable: {err}", file=sys.stderr)
    return files


# --- transformers -----------------------------------------------------------------------


def write_transformers(out: Path) -> dict[str, Path]:
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (
        BertConfig,
        BertModel,
        GenerationConfig,
        GPT2Config,
        GPT2LMHeadModel,
        PreTrainedTokenizerFast,
    )

    torch.manual_seed(0)
    files: dict[str, Path] = {}
    bert = BertModel(
        BertConfig(
            vocab_size=64,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=64,
        )
    )
    gpt2 = GPT2LMHeadModel(
        GPT2Config(vocab_size=64, n_embd=32, n_layer=2, n_head=2, n_positions=64)
    )
    gpt2.generation_config = GenerationConfig(
        max_new_tokens=16,
        do_sample=True,
        temperature=0.7,
        top_p=0.9,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
    )
    for name, model in (("bert", bert), ("gpt2", gpt2)):
        folder = out / name
        model.save_pretrained(folder)
        if "safe_serialization" in inspect.signature(model.save_pretrained).parameters:
            model.save_pretrained(folder, safe_serialization=False)  # transformers 4
        else:  # transformers 5 writes safetensors only; its predecessor's .bin was this
            torch.save(model.state_dict(), folder / "pytorch_model.bin")
        torch.save(
            model.state_dict(),
            folder / "pytorch_model-legacy.bin",
            _use_new_zipfile_serialization=False,
        )
    vocab = {
        tok: i
        for i, tok in enumerate(["[PAD]", "<s>", "</s>", "[UNK]", *"abcdefghijklmnopqrstuvwxyz"])
    }
    raw = Tokenizer(models.WordLevel(vocab, "[UNK]"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    special = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "[UNK]", "pad_token": "[PAD]"}
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw, chat_template=LLAMA2_TEMPLATE, **special
    )
    tokenizer.save_pretrained(out / "gpt2")  # the template goes to chat_template.jinja
    # transformers 4's layout: named templates inside tokenizer_config.json
    tokenizer.chat_template = {"default": LLAMA3_TEMPLATE, "llama2": LLAMA2_TEMPLATE}
    tokenizer.save_pretrained(out / "bert", save_jinja_files=False)
    for folder in (out / "bert", out / "gpt2"):
        for path in sorted(folder.iterdir()):
            files[f"{folder.name}/{path.name}"] = path
    return files


def write_trainer(out: Path) -> dict[str, Path]:
    """A real two-step `transformers.Trainer` run of a tiny random BERT classifier on CPU,
    saving `checkpoint-1/` and `checkpoint-2/` (model, tokenizer, optimizer.pt, scheduler.pt,
    rng_state.pth, trainer_state.json, training_args.bin); plus the training_args.bin a
    Seq2SeqTrainer writes, with `debug` options and a transformers-4-style `fsdp` list."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (
        BertConfig,
        BertForSequenceClassification,
        PreTrainedTokenizerFast,
        Seq2SeqTrainingArguments,
        Trainer,
        TrainingArguments,
    )
    from transformers.trainer_utils import FSDPOption

    torch.manual_seed(0)
    vocab = {tok: i for i, tok in enumerate(["[PAD]", "[UNK]", *"abcdefghijklmnopqrstuvwxyz"])}
    raw = Tokenizer(models.WordLevel(vocab, "[UNK]"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    special = {"unk_token": "[UNK]", "pad_token": "[PAD]"}
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=raw, **special)
    model = BertForSequenceClassification(
        BertConfig(
            vocab_size=len(vocab),
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=64,
            num_labels=2,
        )
    )
    texts = ["a b c", "d e f", "c a b", "f e d", "a a b", "e e f", "b c a", "d f e"]
    encoded = tokenizer(texts, padding="max_length", max_length=8)
    ids, masks = encoded["input_ids"], encoded["attention_mask"]
    examples = [
        {"input_ids": ids[i], "attention_mask": masks[i], "labels": i % 2}
        for i in range(len(texts))
    ]
    args = TrainingArguments(
        output_dir=str(out / "trainer"),
        max_steps=2,
        save_steps=1,
        logging_steps=1,
        per_device_train_batch_size=4,
        learning_rate=1e-3,
        warmup_steps=1,
        lr_scheduler_type="cosine",
        report_to=[],
        use_cpu=True,
        seed=0,
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    trainer = Trainer(model=model, args=args, train_dataset=examples, processing_class=tokenizer)
    trainer.train()
    files: dict[str, Path] = {}
    for folder in sorted((out / "trainer").glob("checkpoint-*")):
        for path in sorted(folder.iterdir()):
            files[f"{folder.name}/{path.name}"] = path
    seq2seq = Seq2SeqTrainingArguments(
        output_dir=str(out / "seq2seq"),
        predict_with_generate=True,
        generation_max_length=16,
        debug="underflow_overflow",
        report_to=[],
        use_cpu=True,
    )
    seq2seq.fsdp = [FSDPOption.FULL_SHARD, FSDPOption.AUTO_WRAP]  # what 4.x's __post_init__ kept
    files["seq2seq/training_args.bin"] = out / "seq2seq" / "training_args.bin"
    files["seq2seq/training_args.bin"].parent.mkdir(parents=True, exist_ok=True)
    torch.save(seq2seq, files["seq2seq/training_args.bin"])  # as Seq2SeqTrainer._save does
    return files


# --- scikit-learn -----------------------------------------------------------------------


def sklearn_models() -> dict[str, Any]:
    """Small fitted estimators: pipelines over a ColumnTransformer, a vectorizer, KMeans."""
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import (
        GradientBoostingClassifier,
        HistGradientBoostingClassifier,
        IsolationForest,
        RandomForestClassifier,
    )
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.default_rng(0)
    n = 60
    numeric = rng.normal(size=(n, 3))
    colour = rng.choice(np.array(["red", "green", "blue"], dtype=object), size=(n, 1))
    x = np.concatenate([numeric.astype(object), colour], axis=1)
    y = (numeric[:, 0] + (colour[:, 0] == "red") > 0.5).astype(int)
    heads = {
        "logreg": LogisticRegression(max_iter=200),
        "forest": RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0),
        "gboost": GradientBoostingClassifier(n_estimators=3, max_depth=2, random_state=0),
        "histgb": HistGradientBoostingClassifier(max_iter=3, random_state=0),
        "mlp": MLPClassifier(hidden_layer_sizes=(4,), max_iter=20, random_state=0),
        "iforest": IsolationForest(n_estimators=3, random_state=0),
    }
    fitted: dict[str, Any] = {}
    for name, head in heads.items():
        columns = ColumnTransformer(
            [
                ("num", StandardScaler(), [0, 1, 2]),
                ("cat", OneHotEncoder(handle_unknown="ignore"), [3]),
            ]
        )
        pipe = Pipeline([("columns", columns), ("model", head)])
        with warnings.catch_warnings():  # convergence warnings of the deliberately tiny fits
            warnings.simplefilter("ignore")
            fitted[name] = pipe.fit(x, y)
    docs = ["the cat sat", "the dog ran", "a cat and a dog", "model files are data"]
    fitted["tfidf"] = TfidfVectorizer(ngram_range=(1, 2)).fit(docs)
    fitted["kmeans"] = KMeans(n_clusters=2, n_init=2, random_state=0).fit(numeric)
    fitted["arrays"] = {
        "embeddings": rng.normal(size=(64, 16)).astype(np.float32),
        "ids": np.arange(64, dtype=np.int64),
        "mask": rng.random(64) > 0.5,
        "half": np.ones(8, dtype=np.float16),
        "labels": np.array(["cat", "dog", None], dtype=object),
        "scalar": np.float64(0.5),
    }
    return fitted


def write_sklearn(out: Path, full: bool = True) -> dict[str, Path]:
    """Every model via joblib (plain, mmap-able layout) and pickle protocol 5; with `full`,
    also joblib compressed (zlib, lzma) and pickle protocols 2 and 4."""
    import joblib

    files: dict[str, Path] = {}
    for name, model in sklearn_models().items():
        writers = {
            "joblib": lambda p, m=model: joblib.dump(m, p),
            "joblib-z3": lambda p, m=model: joblib.dump(m, p, compress=3),
            "joblib-xz": lambda p, m=model: joblib.dump(m, p, compress=("lzma", 1)),
            "pickle2": lambda p, m=model: p.write_bytes(pickle.dumps(m, protocol=2)),
            "pickle4": lambda p, m=model: p.write_bytes(pickle.dumps(m, protocol=4)),
            "pickle5": lambda p, m=model: p.write_bytes(pickle.dumps(m, protocol=5)),
        }
        for form, write in writers.items():
            path = out / f"{name}.{form}"
            write(path)
            files[f"{name}.{form}"] = path
    return files


# --- ONNX, safetensors, GGUF ------------------------------------------------------------


def write_onnx(out: Path) -> dict[str, Path]:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.ones((4, 3), dtype=np.float32), "W")
    bias = numpy_helper.from_array(np.zeros(3, dtype=np.float32), "B")
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "W"], ["h"]),
            helper.make_node("Add", ["h", "B"], ["z"]),
            helper.make_node("Relu", ["z"], ["r"]),
            helper.make_node("Softmax", ["r"], ["y"], axis=-1),
        ],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])],
        [weight, bias],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="custos-tests"
    )
    helper.set_model_props(model, {"author": "tests", "license": "Apache-2.0"})
    onnx.checker.check_model(model)
    files = {"onnx": out / "tiny.onnx", "onnx-external": out / "tiny-external.onnx"}
    onnx.save(model, files["onnx"])
    # Weights beside the graph, as large models (and torch.onnx.export past 2 GB) store them
    onnx.save(
        model,
        files["onnx-external"],
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="tiny-external.onnx.data",
        size_threshold=0,
    )
    files["onnx-external-data"] = out / "tiny-external.onnx.data"
    return files


def write_safetensors(out: Path) -> dict[str, Path]:
    import numpy as np
    from safetensors.numpy import save_file

    rng = np.random.default_rng(0)
    tensors = {
        "embed.weight": rng.normal(size=(16, 8)).astype(np.float32),
        "head.weight": rng.normal(size=(4, 8)).astype(np.float16),
        "head.bias": np.zeros(4, dtype=np.float64),
        "ids": np.arange(5, dtype=np.int64),
        "mask": np.array([True, False, True]),
        "scalar": np.array(1.5, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }
    files = {"safetensors-numpy": out / "numpy.safetensors"}
    save_file(tensors, files["safetensors-numpy"], metadata={"format": "np", "note": "tiny"})
    return files


def write_safetensors_torch(out: Path) -> dict[str, Path]:
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(0)
    tensors = {
        "w.bf16": torch.randn(4, 4).to(torch.bfloat16),
        "w.fp16": torch.randn(4, 4).half(),
        "w.fp8": torch.randn(4, 4).to(torch.float8_e4m3fn),
        "w.int8": torch.randint(-8, 8, (4,), dtype=torch.int8),
        "w.bool": torch.tensor([True, False]),
    }
    files = {"safetensors-torch": out / "torch.safetensors"}
    save_file(tensors, str(files["safetensors-torch"]), metadata={"format": "pt"})
    return files


def write_gguf(out: Path, templates: dict[str, str] | None = None) -> dict[str, Path]:
    """A tiny llama-architecture GGUF per chat template (label -> template)."""
    import numpy as np
    from gguf import GGUFWriter

    if templates is None:
        templates = {"gguf-llama2": LLAMA2_TEMPLATE, "gguf-llama3": LLAMA3_TEMPLATE}
    files: dict[str, Path] = {}
    for label, template in templates.items():
        path = out / f"{label}.gguf"
        writer = GGUFWriter(str(path), "llama")
        writer.add_name("tiny-llama")
        writer.add_context_length(64)
        writer.add_embedding_length(8)
        writer.add_block_count(1)
        writer.add_feed_forward_length(16)
        writer.add_head_count(2)
        writer.add_head_count_kv(2)
        writer.add_rope_dimension_count(4)
        writer.add_layer_norm_rms_eps(1e-5)
        writer.add_file_type(1)
        writer.add_tokenizer_model("llama")
        writer.add_token_list(["<unk>", "<s>", "</s>", "a", "b"])
        writer.add_token_scores([0.0, 0.0, 0.0, -1.0, -2.0])
        writer.add_token_types([2, 3, 3, 1, 1])
        writer.add_bos_token_id(1)
        writer.add_eos_token_id(2)
        writer.add_add_bos_token(True)
        writer.add_chat_template(template)
        rng = np.random.default_rng(0)
        writer.add_tensor("token_embd.weight", rng.normal(size=(5, 8)).astype(np.float16))
        writer.add_tensor("blk.0.attn_norm.weight", np.ones(8, dtype=np.float32))
        writer.add_tensor("output.weight", rng.normal(size=(5, 8)).astype(np.float32))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        files[label] = path
    return files


def write_numpy_objects(out: Path) -> dict[str, Path]:
    """np.save / np.savez of object arrays of strings, ints and nested lists (low: loading them
    needs allow_pickle=True, which the repository scanner reports in code)."""
    import numpy as np

    nested = np.empty(3, dtype=object)
    nested[:] = [[1, [2, 3]], ["a", None], []]
    arrays = {
        "npy-object-strings": np.array(["cat", "dog", "bird"], dtype=object),
        "npy-object-ints": np.array([1, 2**70, -3], dtype=object),
        "npy-object-nested": nested,
    }
    files: dict[str, Path] = {}
    for label, array in arrays.items():
        files[label] = out / f"{label}.npy"
        np.save(files[label], array, allow_pickle=True)
    files["npz-object"] = out / "npz-object.npz"
    np.savez(files["npz-object"], **{k.rsplit("-", 1)[1]: v for k, v in arrays.items()})
    return files


def write_protected(out: Path) -> dict[str, Path]:
    """Password-protected archives of a benign pickle: "not analysed" (medium) is their verdict,
    never a false high. The 7z one only when py7zr is installed."""
    from tests.modelfile import zipcrypto

    benign = pickle.dumps({"weights": [0.5, 1.5]}, protocol=4)
    members = {
        "zip-zipcrypto": zipcrypto.zipcrypto_member("model.pkl", benign, deflate=True),
        "zip-aes": zipcrypto.aes_member("model.pkl", benign),
    }
    files: dict[str, Path] = {}
    for label, member in members.items():
        files[label] = out / f"{label}.zip"
        files[label].write_bytes(zipcrypto.build_zip([member]))
    try:
        import py7zr
    except ImportError:
        return files
    files["7z-password"] = out / "7z-password.7z"
    with py7zr.SevenZipFile(files["7z-password"], "w", password="benign") as archive:  # noqa: S106
        archive.writestr(benign, "model.pkl")
    return files


def write_not_models(out: Path) -> dict[str, Path]:
    """Pictures and documents under model file names (low: not a model)."""
    from tests.modelfile import nonmodels

    files: dict[str, Path] = {}
    for kind, name in (("png", "model.pt"), ("jpeg", "pytorch_model.bin"), ("pdf", "model.pkl")):
        files[f"{kind}-as-{name}"] = out / f"{kind}-{name}"
        files[f"{kind}-as-{name}"].write_bytes(nonmodels.DATA[kind]())
    return files


if __name__ == "__main__":
    kind, folder = sys.argv[1], Path(sys.argv[2])
    folder.mkdir(parents=True, exist_ok=True)
    written = globals()[f"write_{kind}"](folder)
    for label, path in written.items():
        print(f"{label}\t{path}")
