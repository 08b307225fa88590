"""Write benign Keras 3 files (torch backend) into a folder: `python -m tests.modelfile.keras3_files
OUT`. Run in a child process by test_keras_real.py, so that the test workers never import
Keras or set its backend. Every file is tiny and seeded; the models use only Keras' own layers,
initializers, regularizers, constraints, activations, losses, metrics, optimizers and
learning-rate schedules, the way most users write them.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

os.environ["KERAS_BACKEND"] = "torch"


def functional(keras: Any) -> Any:
    """Two inputs, the common layers, compiled with Adam + a schedule, metrics and a loss."""
    from keras import constraints, initializers, layers, losses, metrics, optimizers, regularizers

    image = keras.Input((8, 8, 3), name="image")
    x = layers.Conv2D(
        4, 3, activation="relu", kernel_regularizer=regularizers.L2(1e-4),
        kernel_initializer=initializers.HeNormal(seed=1), kernel_constraint=constraints.MaxNorm(3),
    )(image)  # fmt: skip
    x = layers.BatchNormalization()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dense(
        8, activation=keras.activations.gelu,
        bias_regularizer=regularizers.L1L2(1e-5, 1e-4), bias_constraint=constraints.NonNeg(),
    )(x)  # fmt: skip
    x = keras.ops.add(x * 2.0, keras.ops.mean(x, axis=-1, keepdims=True))  # operations
    tokens = keras.Input((6,), dtype="int32", name="tokens")
    e = layers.Embedding(20, 8, mask_zero=True)(tokens)
    e = layers.LSTM(8, return_sequences=True, recurrent_dropout=0.0)(e)
    e = layers.MultiHeadAttention(2, 4)(e, e)
    e = layers.LayerNormalization()(e)
    e = layers.GlobalAveragePooling1D()(e)
    y = layers.Concatenate()([x, e[:, :4]])
    out = layers.Dense(3, activation="softmax", name="out")(y)
    model = keras.Model([image, tokens], out)
    schedule = optimizers.schedules.ExponentialDecay(1e-3, 100, 0.9)
    model.compile(
        optimizer=optimizers.Adam(schedule),
        loss=losses.CategoricalCrossentropy(label_smoothing=0.1),
        metrics=["accuracy", metrics.AUC(), metrics.TopKCategoricalAccuracy(k=2),
                 keras.metrics.categorical_crossentropy],
    )  # fmt: skip
    return model


def sequential(keras: Any) -> Any:
    """A Sequential text model: recurrent, convolutional and normalisation layers."""
    from keras import layers, losses, metrics, optimizers

    model = keras.Sequential(
        [
            keras.Input((10,), dtype="int32"),
            layers.Embedding(50, 8),
            layers.SpatialDropout1D(0.1),
            layers.Conv1D(8, 3, padding="same", activation="swish"),
            layers.Bidirectional(layers.GRU(4, return_sequences=True)),
            layers.TimeDistributed(layers.Dense(4)),
            layers.GroupNormalization(2),
            layers.GlobalMaxPooling1D(),
            layers.Dense(4, activation=layers.LeakyReLU(0.1)),
            layers.UnitNormalization(),
            layers.Dense(2),
        ]
    )
    model.compile(
        optimizer=optimizers.AdamW(optimizers.schedules.CosineDecay(1e-3, 100, warmup_steps=5)),
        loss=losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[metrics.SparseCategoricalAccuracy(), metrics.SparseTopKCategoricalAccuracy(k=1)],
    )
    return model


def vision(keras: Any) -> Any:
    """Preprocessing, separable and transposed convolutions, residual merges, SGD + steps."""
    from keras import initializers, layers, losses, metrics, optimizers

    image = keras.Input((16, 16, 3))
    x = layers.Rescaling(1 / 255.0)(image)
    x = layers.RandomFlip("horizontal")(x)
    x = layers.ZeroPadding2D(1)(x)
    x = layers.SeparableConv2D(4, 3, depthwise_initializer=initializers.TruncatedNormal(seed=2))(x)
    shortcut = x
    x = layers.DepthwiseConv2D(3, padding="same")(x)
    x = layers.PReLU()(x)
    x = layers.Add()([x, shortcut])
    x = layers.AveragePooling2D(2)(x)
    x = layers.Conv2DTranspose(2, 2, strides=2)(x)
    x = layers.UpSampling2D()(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(8, kernel_initializer=initializers.Orthogonal(seed=3))(x)
    x = layers.ActivityRegularization(l1=1e-5)(x)
    out = layers.Dense(1, activation="sigmoid")(layers.AlphaDropout(0.1)(x))
    model = keras.Model(image, out)
    model.compile(
        optimizer=optimizers.SGD(
            optimizers.schedules.PiecewiseConstantDecay([10, 20], [0.1, 0.01, 0.001]),
            momentum=0.9, nesterov=True,
        ),
        loss=losses.BinaryFocalCrossentropy(),
        metrics=[metrics.Precision(), metrics.Recall(), metrics.BinaryIoU(), "mae"],
    )  # fmt: skip
    return model


def tabular(keras: Any) -> Any:
    """Normalisation and encoding layers with their state, RMSprop, a Huber loss (lookup
    layers and TextVectorization need TensorFlow, which the torch backend does not have)."""
    from keras import layers, losses, optimizers

    numbers = keras.Input((3,))
    x = layers.Normalization(mean=[0.5, 1.5, 2.5], variance=[0.25, 0.25, 0.25])(numbers)
    codes = keras.Input((1,), dtype="int32")
    encoded = layers.CategoryEncoding(num_tokens=5, output_mode="one_hot")(codes)
    binned = layers.Discretization(bin_boundaries=[0.0, 1.0])(x)
    merged = layers.concatenate([x, encoded, layers.Flatten()(binned)])
    merged = layers.GaussianNoise(0.1)(layers.Masking()(layers.Reshape((11,))(merged)))
    out = layers.Dense(1)(layers.Dense(4, activation="elu")(merged))
    model = keras.Model([numbers, codes], out)
    model.compile(optimizer=optimizers.RMSprop(1e-3), loss=losses.Huber(), metrics=["mse"])
    return model


def public_objects(keras: Any) -> list[object]:
    """The config of every public Keras class that builds from defaults or common arguments:
    what the allow-list must accept whatever model a user writes."""
    import importlib
    import inspect
    import pkgutil

    layers = keras.layers
    guesses: dict[str, object] = {
        "units": 2, "filters": 2, "kernel_size": 1, "rate": 0.1, "pool_size": 1,
        "num_heads": 2, "key_dim": 2, "layer": layers.Dense(2), "input_dim": 5, "output_dim": 2,
        "cell": layers.SimpleRNNCell(2), "cells": [layers.SimpleRNNCell(2)], "target_shape": (2,),
        "dims": (1,), "n": 2, "height": 2, "width": 2, "factor": 0.1, "num_tokens": 3,
        "num_bins": 3, "bin_boundaries": [0.0, 1.0], "max_value": 1.0, "value": 1.0,
        "initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.9, "boundaries": [1],
        "values": [0.1, 0.2], "first_decay_steps": 10, "num_classes": 3, "recall": 0.5,
        "precision": 0.5, "specificity": 0.5, "sensitivity": 0.5, "target_class_ids": [0],
        "fn": keras.losses.mean_squared_error, "cropping": 1, "padding": 1, "scale": 1.0,
        "offset": 0.0, "equation": "ab,bc->ac", "output_shape": (2,), "sequence_length": 2,
        "groups": 2, "num_query_heads": 2, "num_key_value_heads": 1, "head_dim": 2,
        "depth_multiplier": 1, "inner_optimizer": keras.optimizers.SGD(),
        "mean": 0.0, "variance": 1.0, "axis": -1, "name": "x",
    }  # fmt: skip
    configs: list[object] = []
    seen: set[type] = set()
    names = (i.name for i in pkgutil.walk_packages(keras.__path__, "keras."))
    modules = [keras, *(importlib.import_module(n) for n in names if not n.startswith("keras.src"))]
    for module in modules:
        for cls in vars(module).values():
            if not isinstance(cls, type) or cls in seen or not hasattr(cls, "get_config"):
                continue
            seen.add(cls)
            # abstract, or needs arguments no guess fits: not a config here
            with contextlib.suppress(Exception):
                params = inspect.signature(cls.__init__).parameters
                required = [p for p, v in params.items() if v.default is inspect.Parameter.empty]
                kwargs = {p: guesses[p] for p in required if p in guesses}
                configs.append(keras.saving.serialize_keras_object(cls(**kwargs)))
    return configs


def main(out: Path) -> None:
    warnings.simplefilter("ignore")
    import keras

    keras.utils.set_random_seed(0)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, build in (
        ("functional", functional),
        ("sequential", sequential),
        ("vision", vision),
        ("tabular", tabular),
    ):
        model = build(keras)
        for suffix in (".keras", ".h5"):  # .h5: Keras 3's legacy HDF5 format
            path = out / f"{name}{suffix}"
            model.save(path)
            written.append(path)
        weights = out / f"{name}.weights.h5"
        model.save_weights(weights)
        written.append(weights)
    # An unzipped model directory (config.json, metadata.json, model.weights.h5): the layout
    # Keras models have on the Hugging Face Hub, which load_model reads as it is.
    keras.saving.save_model(functional(keras), out / "functional_dir", zipped=False)
    written.append(out / "functional_dir" / "config.json")
    public = out / "public_objects.json"
    public.write_text(json.dumps(public_objects(keras)), encoding="utf-8")
    written.append(public)
    for path in written:
        print(path.relative_to(out))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
