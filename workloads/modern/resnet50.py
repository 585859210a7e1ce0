"""resnet50: keras.applications.ResNet50 (weights=None) on CIFAR-10's 32x32 images, 10 classes.

23.6 M parameters; Adam; batch from the matrix. keras-benchmarks has no ResNet: the GPU profile's batch size is
this project's choice (stated in docs/modern-results.md).
"""

import keras

from modern import common


def load(spec):
    return common.cifar10_images(spec)


def build(spec, data):
    model = keras.applications.ResNet50(weights=None, input_shape=data["x_train"].shape[1:], classes=10)
    model.compile(optimizer=keras.optimizers.Adam(), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, common.recorded({"application": "ResNet50", "weights": None,
                                   "input_shape": list(data["x_train"].shape[1:])}, optimizer="Adam")
