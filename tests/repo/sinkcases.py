"""Snippets for the tests of the Python rules (custos.repo.pysinks): templates of planted sinks
(one rule each, with the severity it must get) and of safe look-alikes (the same libraries used
safely), each turned into code by a seeded random generator that varies what real code varies:
import forms and aliases (`import torch as T`, `from joblib import load as jl`), variable names,
keyword order and extra keywords, and where the call sits (module level, functions, async
functions, methods, nested functions, class bodies, lambdas, `if`/`try` blocks, arguments).

Every template is written here by hand; only the variations are random."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from custos.findings import Severity

SHA = "0123456789abcdef0123456789abcdef01234567"
LOCAL_DIRS = ("models/local-bert",)  # directories the tests create under the repository root
VARS = ("path", "ckpt", "weights_file", "src", "model_file", "blob", "target", "fname", "uri")

H, M, L = Severity.high, Severity.medium, Severity.low


@dataclass(frozen=True)
class Snippet:
    """Code for one case: imports, module-level statements, and the statements (or the one
    expression, when `expr`) that hold the sink or its look-alike."""

    imports: list[str]
    body: list[str]
    expr: bool = False
    prelude: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Template:
    name: str
    rule: str | None  # None: a safe look-alike
    severity: Severity | None
    build: Callable[[random.Random], Snippet]
    torch_pinned: str | None = None


@dataclass(frozen=True)
class Case:
    name: str
    code: str
    rule: str | None
    severity: Severity | None
    torch_pinned: str | None


# -- variation helpers --------------------------------------------------------------------------


def var(r: random.Random) -> str:
    return r.choice(VARS)


def callee(
    r: random.Random, module: str, name: str, aliases: Sequence[str] = ()
) -> tuple[str, str]:
    """An import line and the callee that reaches module.name through it."""
    form = r.randrange(3)
    if form == 0:
        alias = r.choice([None, *aliases])
        if alias is None:
            return f"import {module}", f"{module}.{name}"
        return f"import {module} as {alias}", f"{alias}.{name}"
    if form == 1:
        return f"from {module} import {name}", name
    alias = r.choice([f"_{name}", f"{name}_fn", f"my_{name}"])
    return f"from {module} import {name} as {alias}", alias


def module(r: random.Random, name: str, aliases: Sequence[str] = ()) -> tuple[str, str]:
    """An import line and the name the module is reached by."""
    alias = r.choice([None, *aliases])
    return (f"import {name}", name) if alias is None else (f"import {name} as {alias}", alias)


def call(
    r: random.Random,
    func: str,
    args: Sequence[str],
    kwargs: Sequence[str] = (),
    extra: Sequence[str] = (),
) -> str:
    """`func(args, kwargs...)` with the keywords shuffled and some harmless extras mixed in."""
    keywords = [*kwargs, *r.sample(list(extra), r.randint(0, len(extra)))]
    r.shuffle(keywords)
    return f"{func}({', '.join([*args, *keywords])})"


def expr(imports: Sequence[str], expression: str, prelude: Sequence[str] = ()) -> Snippet:
    return Snippet(list(imports), [expression], True, list(prelude))


def stmts(imports: Sequence[str], body: Sequence[str], prelude: Sequence[str] = ()) -> Snippet:
    return Snippet(list(imports), list(body), False, list(prelude))


def hf_class(r: random.Random) -> tuple[str, str]:
    """A transformers class reached through one import form or another."""
    cls = r.choice(["AutoModel", "AutoTokenizer", "AutoModelForCausalLM", "AutoConfig"])
    if r.random() < 0.5:
        return f"from transformers import {cls}", cls
    imp, mod = module(r, "transformers", ["tr", "hf"])
    return imp, f"{mod}.{cls}"


# -- planted: torch, pickle, numpy --------------------------------------------------------------

TORCH = ("t", "T", "th")
TORCH_EXTRA = ("map_location='cpu'", "mmap=True")


def torch_false(r: random.Random) -> Snippet:
    imp, f = callee(r, "torch", "load", TORCH)
    return expr([imp], call(r, f, [var(r)], ["weights_only=False"], TORCH_EXTRA))


def torch_bare(r: random.Random) -> Snippet:
    imp, f = callee(r, "torch", "load", TORCH)
    return expr([imp], call(r, f, [var(r)], [], TORCH_EXTRA))


def torch_variable(r: random.Random) -> Snippet:
    imp, f = callee(r, "torch", "load", TORCH)
    return expr([imp], call(r, f, [var(r)], ["weights_only=cfg.safe"], TORCH_EXTRA))


def pickle_handle(r: random.Random) -> Snippet:
    mod = r.choice(["pickle", "dill", "cloudpickle", "_pickle"])
    imp, f = callee(r, mod, "load", ["pk", "serial"])
    return expr([imp], f"{f}({r.choice(['fh', 'stream', 'handle'])})")


def pickle_open_variable(r: random.Random) -> Snippet:
    imp, f = callee(r, "pickle", "load", ["pk"])
    return expr([imp], f"{f}(open({var(r)}, 'rb'))")


def pickle_bytes(r: random.Random) -> Snippet:
    mod = r.choice(["pickle", "dill", "cloudpickle"])
    imp, f = callee(r, mod, "loads", ["pk"])
    return expr([imp], f"{f}({r.choice(['blob', 'payload', 'response.content'])})")


def joblib_variable(r: random.Random) -> Snippet:
    imp, f = callee(r, "joblib", "load", ["jl", "jb"])
    return expr([imp], call(r, f, [var(r)], [], ["mmap_mode='r'"]))


def read_pickle_remote(r: random.Random) -> Snippet:
    imp, f = callee(r, "pandas", "read_pickle", ["pd"])
    source = r.choice(["'https://example.com/frame.pkl'", var(r), "'s3://bucket/frame.pkl'"])
    return expr([imp], f"{f}({source})")


def pickle_absolute(r: random.Random) -> Snippet:
    imp, f = callee(r, "pickle", "load", ["pk"])
    return expr([imp], f"{f}(open('/tmp/model.pkl', 'rb'))")


def joblib_escape(r: random.Random) -> Snippet:
    imp, f = callee(r, "joblib", "load", ["jl"])
    return expr([imp], f"{f}('../shared/model.joblib')")


def with_open_variable(r: random.Random) -> Snippet:
    imp, f = callee(r, "pickle", "load", ["pk"])
    return stmts([imp], [f"with open({var(r)}, 'rb') as fh:", f"    obj = {f}(fh)"])


def joblib_fstring(r: random.Random) -> Snippet:
    imp, f = callee(r, "joblib", "load", ["jl"])
    return expr([imp], f"{f}(f'models/{{name}}.joblib')")


def shelve_variable(r: random.Random) -> Snippet:
    imp, f = callee(r, "shelve", "open")
    return expr([imp], f"{f}({var(r)})")


def numpy_pickle(r: random.Random) -> Snippet:
    imp, f = callee(r, "numpy", "load", ["np", "nump"])
    return expr([imp], call(r, f, [var(r)], ["allow_pickle=True"], ["mmap_mode='r'"]))


# -- planted: yaml, remote code, eval, shell ----------------------------------------------------


def yaml_bare(r: random.Random) -> Snippet:
    imp, f = callee(r, "yaml", "load", ["yml", "pyyaml"])
    return expr([imp], f"{f}(fh)")


def yaml_unsafe_loader(r: random.Random) -> Snippet:
    imp, mod = module(r, "yaml", ["yml"])
    loader = r.choice(["Loader", "UnsafeLoader", "CLoader", "CUnsafeLoader"])
    if r.random() < 0.5:
        return expr(
            [imp, f"from yaml import {loader} as L"], call(r, f"{mod}.load", ["fh"], ["Loader=L"])
        )
    return expr([imp], call(r, f"{mod}.load", ["fh"], [f"Loader={mod}.{loader}"]))


def yaml_unsafe_function(r: random.Random) -> Snippet:
    imp, f = callee(r, "yaml", r.choice(["unsafe_load", "unsafe_load_all"]), ["yml"])
    return expr([imp], f"{f}(fh)")


def yaml_full_function(r: random.Random) -> Snippet:
    imp, f = callee(r, "yaml", r.choice(["full_load", "full_load_all"]), ["yml"])
    return expr([imp], f"{f}(fh)")


def yaml_full_loader(r: random.Random) -> Snippet:
    imp, mod = module(r, "yaml", ["yml"])
    return expr([imp], call(r, f"{mod}.load", ["fh"], [f"Loader={mod}.FullLoader"]))


def yaml_load_all(r: random.Random) -> Snippet:
    imp, mod = module(r, "yaml", ["yml"])
    return expr([imp], call(r, f"{mod}.load_all", ["fh"], [f"Loader={mod}.UnsafeLoader"]))


def trust_pretrained(r: random.Random) -> Snippet:
    imp, cls = hf_class(r)
    kwargs = ["trust_remote_code=True", f"revision='{SHA}'"]
    return expr(
        [imp], call(r, f"{cls}.from_pretrained", ["'org/name'"], kwargs, ["torch_dtype='auto'"])
    )


def trust_pipeline(r: random.Random) -> Snippet:
    imp, f = callee(r, "transformers", "pipeline", ["tr"])
    kwargs = ["model='org/name'", "trust_remote_code=True"]
    return expr([imp], call(r, f, ["'text-generation'"], kwargs, ["device=0"]))


def trust_dataset(r: random.Random) -> Snippet:
    imp, f = callee(r, "datasets", "load_dataset", ["ds"])
    return expr([imp], call(r, f, ["'org/data'"], ["trust_remote_code=True"], ["split='train'"]))


def eval_variable(r: random.Random) -> Snippet:
    func = r.choice(["eval", "exec", "builtins.eval", "builtins.exec"])
    imports = ["import builtins"] if func.startswith("builtins") else []
    argument = r.choice([var(r), "cfg['expr']", "line.strip()"])
    return expr(imports, f"{func}({argument})")


def exec_compiled(r: random.Random) -> Snippet:
    return expr([], "exec(compile(source, '<config>', 'exec'))")


def eval_model_output(r: random.Random) -> Snippet:
    return expr([], "eval(response.choices[0].message.content)")


def shell_true(r: random.Random) -> Snippet:
    name = r.choice(["run", "call", "check_call", "check_output", "Popen"])
    imp, f = callee(r, "subprocess", name, ["sp"])
    command = r.choice([var(r), "f'convert {src} out.png'", "' '.join(parts)"])
    return expr([imp], call(r, f, [command], ["shell=True"], ["check=True", "text=True"]))


def os_shell(r: random.Random) -> Snippet:
    imp, f = callee(r, "os", r.choice(["system", "popen"]))
    command = r.choice([var(r), "f'nvidia-smi -i {gpu}'", "'ls ' + folder"])
    return expr([imp], f"{f}({command})")


# -- planted: keras, onnx, tls, downloads -------------------------------------------------------


def keras_safe_mode(r: random.Random) -> Snippet:
    form = r.randrange(3)
    if form == 0:
        imp, mod = module(r, "keras", ["K"])
        func = f"{mod}.models.load_model"
    elif form == 1:
        imp, mod = module(r, "tensorflow", ["tf"])
        func = f"{mod}.keras.models.load_model"
    else:
        imp, func = callee(r, "keras.models", "load_model")
    return expr([imp], call(r, func, [var(r)], ["safe_mode=False"], ["compile=False"]))


def keras_unsafe_deserialization(r: random.Random) -> Snippet:
    imp, mod = module(r, "keras", ["K"])
    return expr([imp], f"{mod}.config.enable_unsafe_deserialization()")


def onnx_custom_op(r: random.Random) -> Snippet:
    imp, mod = module(r, "onnxruntime", ["ort", "rt"])
    library = r.choice([var(r), "get_library_path()", "os.environ['OPS_LIB']"])
    if r.random() < 0.5:
        return expr([imp], f"{mod}.SessionOptions().register_custom_ops_library({library})")
    return stmts(
        [imp],
        ["opts = " + f"{mod}.SessionOptions()", f"opts.register_custom_ops_library({library})"],
    )


def verify_false(r: random.Random) -> Snippet:
    if r.random() < 0.5:
        imp, mod = module(r, "requests", ["rq"])
        func = f"{mod}.{r.choice(['get', 'post', 'request'])}"
    else:
        imp, mod = module(r, "httpx", ["hx"])
        func = f"{mod}.{r.choice(['Client', 'AsyncClient', 'get'])}"
    return expr([imp], call(r, func, ["url"], ["verify=False"], ["timeout=10", "headers=h"]))


def unverified_context(r: random.Random) -> Snippet:
    imp, f = callee(r, "ssl", "_create_unverified_context")
    return expr([imp], f"{f}()")


def global_unverified(r: random.Random) -> Snippet:
    return stmts(
        ["import ssl"], ["ssl._create_default_https_context = ssl._create_unverified_context"]
    )


def check_hostname(r: random.Random) -> Snippet:
    imp, mod = module(r, "ssl")
    return stmts([imp], [f"ctx = {mod}.create_default_context()", "ctx.check_hostname = False"])


def session_verify(r: random.Random) -> Snippet:
    imp, mod = module(r, "requests", ["rq"])
    return stmts([imp], [f"session = {mod}.Session()", "session.verify = False"])


def disable_warnings(r: random.Random) -> Snippet:
    if r.random() < 0.5:
        imp, f = callee(r, "urllib3", "disable_warnings", ["u3"])
        return expr([imp], f"{f}()")
    return expr(["import requests"], "requests.packages.urllib3.disable_warnings()")


def unpinned_constant(r: random.Random) -> Snippet:
    imp, cls = hf_class(r)
    return expr(
        [imp], call(r, f"{cls}.from_pretrained", ["'org/name'"], [], ["torch_dtype='auto'"])
    )


def unpinned_variable(r: random.Random) -> Snippet:
    imp, cls = hf_class(r)
    return expr([imp], call(r, f"{cls}.from_pretrained", [r.choice(["model_name", "args.model"])]))


def unpinned_branch(r: random.Random) -> Snippet:
    imp, cls = hf_class(r)
    revision = r.choice(["'main'", "'v1.0'", "'refs/pr/1'"])
    return expr([imp], call(r, f"{cls}.from_pretrained", ["'org/name'"], [f"revision={revision}"]))


def hub_download(r: random.Random) -> Snippet:
    name = r.choice(["hf_hub_download", "snapshot_download"])
    imp, f = callee(r, "huggingface_hub", name, ["hub"])
    if name == "hf_hub_download":
        return expr([imp], call(r, f, [], ["repo_id='org/name'", "filename='model.safetensors'"]))
    return expr([imp], call(r, f, ["'org/name'"], [], ["local_dir='weights'"]))


# -- look-alikes --------------------------------------------------------------------------------


def safe_torch_true(r: random.Random) -> Snippet:
    imp, f = callee(r, "torch", "load", TORCH)
    return expr([imp], call(r, f, [var(r)], ["weights_only=True"], TORCH_EXTRA))


def safe_torch_other(r: random.Random) -> Snippet:
    imp, mod = module(r, "torch", TORCH)
    return expr([imp], r.choice([f"{mod}.jit.load({var(r)})", f"model.load_state_dict({var(r)})"]))


def safe_pickle_constant(r: random.Random) -> Snippet:
    imp, f = callee(r, "pickle", "load", ["pk"])
    return expr([imp], f"{f}(open('data/x.pkl', 'rb'))")


def safe_with_open_constant(r: random.Random) -> Snippet:
    imp, f = callee(r, "pickle", "load", ["pk"])
    opener = r.choice(["open('data/x.pkl', 'rb')", "Path('data/x.pkl').open('rb')"])
    return stmts([imp, "from pathlib import Path"], [f"with {opener} as fh:", f"    obj = {f}(fh)"])


def safe_joblib_constant(r: random.Random) -> Snippet:
    imp, f = callee(r, "joblib", "load", ["jl"])
    sources = [
        "'models/m.joblib'",
        "Path('models') / 'm.joblib'",
        "os.path.join('models', 'm.joblib')",
        "Path(__file__).parent / 'm.joblib'",
    ]
    source = r.choice(sources)
    return expr([imp, "import os", "from pathlib import Path"], f"{f}({source})")


def safe_module_constant(r: random.Random) -> Snippet:
    imp, f = callee(r, "joblib", "load", ["jl"])
    return expr([imp], f"{f}(MODEL_PATH)", prelude=["MODEL_PATH = 'models/m.joblib'"])


def safe_read_pickle_constant(r: random.Random) -> Snippet:
    imp, f = callee(r, "pandas", "read_pickle", ["pd"])
    return expr([imp], f"{f}('data/frame.pkl')")


def safe_other_serialisers(r: random.Random) -> Snippet:
    choice = r.choice(["json.loads(blob)", "pickle.dumps(obj)", "json.load(fh)"])
    return expr(["import json", "import pickle"], choice)


def safe_numpy(r: random.Random) -> Snippet:
    imp, mod = module(r, "numpy", ["np"])
    form = r.choice(
        [f"{mod}.load({{v}})", f"{mod}.load({{v}}, allow_pickle=False)", f"{mod}.loadtxt({{v}})"]
    )
    return expr([imp], form.format(v=var(r)))


def safe_yaml_function(r: random.Random) -> Snippet:
    imp, f = callee(r, "yaml", r.choice(["safe_load", "safe_load_all"]), ["yml"])
    return expr([imp], f"{f}(fh)")


def safe_yaml_loader(r: random.Random) -> Snippet:
    imp, mod = module(r, "yaml", ["yml"])
    loader = r.choice(["SafeLoader", "CSafeLoader", "BaseLoader"])
    form = r.randrange(3)
    if form == 0:
        return expr(
            [imp, f"from yaml import {loader} as L"], call(r, f"{mod}.load", ["fh"], ["Loader=L"])
        )
    if form == 1:
        return expr([imp], f"{mod}.load(fh, {mod}.{loader})")
    return expr([imp], call(r, f"{mod}.load", ["fh"], [f"Loader={mod}.{loader}"]))


def safe_ruamel(r: random.Random) -> Snippet:
    return stmts(
        ["from ruamel.yaml import YAML"], ["yaml = YAML(typ='safe')", "data = yaml.load(fh)"]
    )


def safe_trust_false(r: random.Random) -> Snippet:
    imp, cls = hf_class(r)
    kwargs = ["trust_remote_code=False", f"revision='{SHA}'"]
    return expr([imp], call(r, f"{cls}.from_pretrained", ["'org/name'"], kwargs))


def safe_eval(r: random.Random) -> Snippet:
    form = r.choice(
        ["eval('1 + 2')", "exec('x = 1')", "ast.literal_eval(text)", "model.eval()", "net.eval()"]
    )
    return expr(["import ast"], form)


def safe_own_eval(r: random.Random) -> Snippet:
    prelude = ["def eval(model, loader):", "    return 0.0"]
    return expr([], "eval(net, val_loader)", prelude=prelude)


def safe_subprocess(r: random.Random) -> Snippet:
    imp, f = callee(r, "subprocess", r.choice(["run", "check_call", "Popen"]), ["sp"])
    form = r.choice([["['ls', path]"], [var(r)]])
    kwargs = r.choice([[], ["shell=False"]])
    return expr([imp], call(r, f, form, kwargs, ["check=True"]))


def safe_os_system(r: random.Random) -> Snippet:
    imp, f = callee(r, "os", r.choice(["system", "popen"]))
    return expr([imp], f"{f}('nvidia-smi')")


def safe_keras(r: random.Random) -> Snippet:
    imp, f = callee(r, "keras.models", "load_model")
    return expr([imp], call(r, f, [var(r)], r.choice([[], ["safe_mode=True"]]), ["compile=False"]))


def safe_onnx(r: random.Random) -> Snippet:
    imp, mod = module(r, "onnxruntime", ["ort"])
    return stmts(
        [imp],
        [
            f"opts = {mod}.SessionOptions()",
            "opts.register_custom_ops_library('libs/custom_ops.so')",
        ],
    )


def safe_verify(r: random.Random) -> Snippet:
    imp, mod = module(r, "requests", ["rq"])
    verify = r.choice(["True", "'certs/ca.pem'", "ca_bundle"])
    return expr([imp], call(r, f"{mod}.get", ["url"], [f"verify={verify}"], ["timeout=10"]))


def safe_tls_context(r: random.Random) -> Snippet:
    return stmts(
        ["import ssl"], ["ctx = ssl.create_default_context()", "ctx.check_hostname = True"]
    )


def safe_pinned(r: random.Random) -> Snippet:
    imp, cls = hf_class(r)
    return expr([imp], call(r, f"{cls}.from_pretrained", ["'org/name'"], [f"revision='{SHA}'"]))


def safe_local_model(r: random.Random) -> Snippet:
    imp, cls = hf_class(r)
    source = r.choice(
        [
            "'./checkpoints/run1'",
            "'models/local-bert'",
            "'/opt/models/bert'",
            "Path('checkpoints') / 'run1'",
        ]
    )
    return expr([imp, "from pathlib import Path"], f"{cls}.from_pretrained({source})")


def safe_local_only(r: random.Random) -> Snippet:
    imp, cls = hf_class(r)
    return expr([imp], call(r, f"{cls}.from_pretrained", [var(r)], ["local_files_only=True"]))


def safe_hub_pinned(r: random.Random) -> Snippet:
    imp, f = callee(r, "huggingface_hub", "hf_hub_download", ["hub"])
    return expr([imp], call(r, f, ["'org/name'", "'m.bin'"], [f"revision='{SHA}'"]))


# -- the tables ---------------------------------------------------------------------------------

PLANTED: list[Template] = [
    Template("torch-weights-false", "repo/torch-load-unsafe", H, torch_false),
    Template("torch-bare-old-torch", "repo/torch-load-unsafe", H, torch_bare, "2.5.1"),
    Template("torch-bare-unknown-torch", "repo/torch-load-unsafe", M, torch_bare),
    Template("torch-weights-variable", "repo/torch-load-unsafe", M, torch_variable),
    Template("pickle-handle", "repo/pickle-load", H, pickle_handle),
    Template("pickle-open-variable", "repo/pickle-load", H, pickle_open_variable),
    Template("pickle-bytes", "repo/pickle-load", H, pickle_bytes),
    Template("joblib-variable", "repo/pickle-load", H, joblib_variable),
    Template("read-pickle-remote", "repo/pickle-load", H, read_pickle_remote),
    Template("pickle-absolute", "repo/pickle-load", H, pickle_absolute),
    Template("joblib-escape", "repo/pickle-load", H, joblib_escape),
    Template("with-open-variable", "repo/pickle-load", H, with_open_variable),
    Template("joblib-fstring", "repo/pickle-load", H, joblib_fstring),
    Template("shelve-variable", "repo/pickle-load", H, shelve_variable),
    Template("numpy-allow-pickle", "repo/numpy-allow-pickle", H, numpy_pickle),
    Template("yaml-bare", "repo/yaml-unsafe-load", H, yaml_bare),
    Template("yaml-unsafe-loader", "repo/yaml-unsafe-load", H, yaml_unsafe_loader),
    Template("yaml-unsafe-function", "repo/yaml-unsafe-load", H, yaml_unsafe_function),
    Template("yaml-full-function", "repo/yaml-unsafe-load", M, yaml_full_function),
    Template("yaml-full-loader", "repo/yaml-unsafe-load", M, yaml_full_loader),
    Template("yaml-load-all", "repo/yaml-unsafe-load", H, yaml_load_all),
    Template("trust-pretrained", "repo/trust-remote-code", H, trust_pretrained),
    Template("trust-pipeline", "repo/trust-remote-code", H, trust_pipeline),
    Template("trust-dataset", "repo/trust-remote-code", H, trust_dataset),
    Template("eval-variable", "repo/eval-exec", H, eval_variable),
    Template("exec-compiled", "repo/eval-exec", H, exec_compiled),
    Template("eval-model-output", "repo/eval-exec", H, eval_model_output),
    Template("shell-true", "repo/subprocess-shell", H, shell_true),
    Template("os-shell", "repo/subprocess-shell", M, os_shell),
    Template("keras-safe-mode", "repo/keras-unsafe-mode", H, keras_safe_mode),
    Template(
        "keras-unsafe-deserialization", "repo/keras-unsafe-mode", H, keras_unsafe_deserialization
    ),
    Template("onnx-custom-op", "repo/onnx-custom-op", M, onnx_custom_op),
    Template("verify-false", "repo/tls-verify-off", H, verify_false),
    Template("unverified-context", "repo/tls-verify-off", H, unverified_context),
    Template("global-unverified", "repo/tls-verify-off", H, global_unverified),
    Template("check-hostname", "repo/tls-verify-off", M, check_hostname),
    Template("session-verify", "repo/tls-verify-off", H, session_verify),
    Template("disable-warnings", "repo/tls-verify-off", L, disable_warnings),
    Template("unpinned-constant", "repo/unpinned-model-download", M, unpinned_constant),
    Template("unpinned-variable", "repo/unpinned-model-download", M, unpinned_variable),
    Template("unpinned-branch", "repo/unpinned-model-download", L, unpinned_branch),
    Template("hub-download", "repo/unpinned-model-download", M, hub_download),
]

LOOK_ALIKES: list[Template] = [
    Template("torch-weights-true", None, None, safe_torch_true),
    Template("torch-bare-new-torch", None, None, torch_bare, "2.6.0"),
    Template("torch-bare-newer-torch", None, None, torch_bare, "2.7.1+cu126"),
    Template("torch-other-loads", None, None, safe_torch_other),
    Template("pickle-constant", None, None, safe_pickle_constant),
    Template("with-open-constant", None, None, safe_with_open_constant),
    Template("joblib-constant", None, None, safe_joblib_constant),
    Template("joblib-module-constant", None, None, safe_module_constant),
    Template("read-pickle-constant", None, None, safe_read_pickle_constant),
    Template("other-serialisers", None, None, safe_other_serialisers),
    Template("numpy-no-pickle", None, None, safe_numpy),
    Template("yaml-safe-function", None, None, safe_yaml_function),
    Template("yaml-safe-loader", None, None, safe_yaml_loader),
    Template("ruamel-yaml", None, None, safe_ruamel),
    Template("trust-false", None, None, safe_trust_false),
    Template("eval-literal", None, None, safe_eval),
    Template("own-eval", None, None, safe_own_eval),
    Template("subprocess-list", None, None, safe_subprocess),
    Template("os-system-constant", None, None, safe_os_system),
    Template("keras-safe", None, None, safe_keras),
    Template("onnx-constant", None, None, safe_onnx),
    Template("verify-on", None, None, safe_verify),
    Template("tls-default-context", None, None, safe_tls_context),
    Template("pretrained-pinned", None, None, safe_pinned),
    Template("pretrained-local", None, None, safe_local_model),
    Template("pretrained-local-only", None, None, safe_local_only),
    Template("hub-pinned", None, None, safe_hub_pinned),
]


# -- placing a snippet --------------------------------------------------------------------------


def indent(lines: Sequence[str], depth: int) -> list[str]:
    return [("    " * depth + line) if line else line for line in lines]


def place(r: random.Random, snippet: Snippet) -> str:
    """The snippet as a module, its sink somewhere a real module could have it."""
    kinds = ["module", "function", "async", "method", "nested", "class-body", "if", "try"]
    if snippet.expr:
        kinds += ["lambda", "argument", "return"]
    kind = r.choice(kinds)
    body = snippet.body
    if snippet.expr:
        expression = body[0]
        body = [r.choice([f"result = {expression}", expression, f"items.append({expression})"])]
        if kind == "lambda":
            body = [f"handler = lambda {r.choice(['', 'item', 'item, *rest'])}: {expression}"]
        elif kind == "argument":
            body = [f"print({r.choice(['', 'label, '])}{expression})"]
        elif kind == "return":
            kind, body = "function", [f"return {expression}"]
    params = r.choice(["", "self_, *args", "config, **kwargs", "x=None"])
    placed = {
        "module": body,
        "if": ["if __name__ == '__main__':", *indent(body, 1)],
        "try": ["try:", *indent(body, 1), "except Exception:", "    pass"],
        "function": [f"def run_step({params}):", *indent(body, 1)],
        "async": [f"async def fetch({params}):", *indent(body, 1)],
        "method": ["class Trainer:", "    def load(self):", *indent(body, 2)],
        "nested": ["def outer():", "    def inner():", *indent(body, 2), "    return inner"],
        "class-body": ["class Settings:", *indent(body, 1)],
        "lambda": body,
        "argument": body,
    }[kind]
    head = [*dict.fromkeys(snippet.imports)]
    return "\n".join([*head, "", *snippet.prelude, "", *placed, ""])


def case(r: random.Random, template: Template) -> Case:
    code = place(r, template.build(r))
    return Case(template.name, code, template.rule, template.severity, template.torch_pinned)


def variations(seed: int, count: int) -> list[Case]:
    """`count` cases, planted and look-alike alike, each from a random template."""
    r = random.Random(seed)
    templates = PLANTED + LOOK_ALIKES
    return [case(r, r.choice(templates)) for _ in range(count)]
