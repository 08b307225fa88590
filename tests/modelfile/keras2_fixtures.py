"""Write tests/modelfile/data/keras2/ with the real tf_keras (TensorFlow's Keras 2).

TensorFlow is too large for the dev extra, so these few small files are kept in the
repository; tests/modelfile/test_keras_real.py scans them. Regenerate (where tensorflow-cpu
and tf-keras are installed):

    python -m tests.modelfile.keras2_fixtures tests/modelfile/data/keras2
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import tensorflow as tf
import tf_keras as keras
from tf_keras import constraints, initializers, layers, losses, metrics, optimizers, regularizers


def functional() -> keras.Model:
    image = keras.Input((6, 6, 1), name="image")
    x = layers.Conv2D(
        2, 3, activation="relu", kernel_regularizer=regularizers.L2(1e-4),
        kernel_initializer=initializers.HeNormal(seed=1), kernel_constraint=constraints.MaxNorm(3),
    )(image)  # fmt: skip
    x = layers.BatchNormalization()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(4, activation="gelu", bias_regularizer=regularizers.L1L2(1e-5, 1e-4))(x)
    x = x * 2.0 + tf.math.reduce_mean(x)  # TFOpLambda layers
    tokens = keras.Input((5,), dtype="int32", name="tokens")
    e = layers.Embedding(10, 4)(tokens)
    e = layers.LSTM(4, return_sequences=True)(e)
    e = layers.MultiHeadAttention(1, 2)(e, e)
    e = layers.LayerNormalization()(e)
    e = layers.GlobalAveragePooling1D()(e)
    y = layers.Concatenate()([x, e[:, :2]])  # SlicingOpLambda
    out = layers.Dense(3, activation="softmax", name="out")(y)
    model = keras.Model([image, tokens], out)
    schedule = optimizers.schedules.ExponentialDecay(1e-3, 100, 0.9)
    model.compile(
        optimizer=optimizers.Adam(schedule),
        loss=losses.CategoricalCrossentropy(label_smoothing=0.1),
        metrics=["accuracy", metrics.AUC(), metrics.TopKCategoricalAccuracy(k=2),
                 keras.metrics.categorical_crossentropy],
    )  # fmt: skip
    inputs = [np.zeros((4, 6, 6, 1)), np.zeros((4, 5), "int32")]
    model.fit(inputs, np.eye(3)[[0, 1, 2, 0]], epochs=1, verbose=0)
    return model


def sequential() -> keras.Model:
    model = keras.Sequential([keras.Input((4,)), layers.Dense(2, activation="tanh")])
    model.compile(optimizer=optimizers.legacy.SGD(0.1), loss="mse", metrics=["mae"])
    return model


def main(out: Path) -> None:
    keras.utils.set_random_seed(0)
    out.mkdir(parents=True, exist_ok=True)
    for name, model in (("functional", functional()), ("sequential", sequential())):
        model.save(out / f"{name}.h5")
        with tempfile.TemporaryDirectory() as tmp:
            model.save(Path(tmp) / "saved")  # SavedModel: only keras_metadata.pb is kept
            shutil.copy(Path(tmp) / "saved" / "keras_metadata.pb", out / f"{name}_metadata.pb")
    functional().save(out / "functional.keras")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
