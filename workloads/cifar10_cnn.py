"""cifar10_cnn: keras-team/keras examples/cifar10_cnn.py at 5ce69728 (Keras 2.0.8), with data augmentation.

Conv2D 32 3x3 same, relu, Conv2D 32 3x3, relu, MaxPooling 2x2, Dropout .25, Conv2D 64 3x3 same, relu,
Conv2D 64 3x3, relu, MaxPooling 2x2, Dropout .25, Flatten, Dense 512, relu, Dropout .5, Dense 10, softmax;
RMSprop(lr=1e-4, decay=1e-6); batch 32; pixels scaled to [0, 1]. Real-time augmentation (ImageDataGenerator:
width/height shift 0.1, horizontal flip) through fit_generator, steps_per_epoch = len(x_train) // 32,
validation on the test set. 1,250,858 parameters.

The cell's steps_per_epoch (profiles) overrides the upstream steps; the result records the steps used.
The test metric is the clean test set's; the 2017 article's 0.77 came from evaluate_generator on augmented test
batches: ORCHESTRATE_CIFAR10_EVAL=augmented (matrix `env:`) adds that as augmented_loss / augmented_accuracy.
"""

import os

import compat
import datasets

NUM_CLASSES = 10

AUGMENTATION = {
    "featurewise_center": False, "samplewise_center": False, "featurewise_std_normalization": False,
    "samplewise_std_normalization": False, "zca_whitening": False, "rotation_range": 0,
    "width_shift_range": 0.1, "height_shift_range": 0.1, "horizontal_flip": True, "vertical_flip": False,
}


def load(spec):
    (x_train, y_train), (x_test, y_test), info = datasets.load_cifar10(spec)
    channels_first = compat.image_data_format() == "channels_first"
    if channels_first:  # keras.datasets.cifar10 hands channels-first arrays to a channels-first backend
        x_train, x_test = x_train.transpose(0, 3, 1, 2), x_test.transpose(0, 3, 1, 2)
    data = {
        "x_train": x_train.astype("float32") / 255, "y_train": compat.one_hot(y_train, NUM_CLASSES),
        "x_test": x_test.astype("float32") / 255, "y_test": compat.one_hot(y_test, NUM_CLASSES),
    }
    steps = steps_per_epoch(spec, data)
    data["samples_per_epoch"] = steps * spec["batch_size"]
    upstream_steps = len(x_train) // spec["batch_size"]
    if steps != upstream_steps:
        info["notes"].append("steps_per_epoch %d (upstream: len(x_train) // batch_size = %d)" % (steps, upstream_steps))
    else:
        info["notes"].append("steps_per_epoch %d = len(x_train) // batch_size, as upstream" % steps)
    return data, info


def steps_per_epoch(spec, data):
    return spec.get("steps_per_epoch") or max(1, len(data["x_train"]) // spec["batch_size"])


def build(spec, data):
    model = compat.Sequential()
    first = compat.add_input(model, data["x_train"].shape[1:])
    model.add(compat.Conv2D(32, (3, 3), padding="same", **first))
    model.add(compat.Activation("relu"))
    model.add(compat.Conv2D(32, (3, 3)))
    model.add(compat.Activation("relu"))
    model.add(compat.MaxPooling2D(pool_size=(2, 2)))
    model.add(compat.Dropout(0.25))
    model.add(compat.Conv2D(64, (3, 3), padding="same"))
    model.add(compat.Activation("relu"))
    model.add(compat.Conv2D(64, (3, 3)))
    model.add(compat.Activation("relu"))
    model.add(compat.MaxPooling2D(pool_size=(2, 2)))
    model.add(compat.Dropout(0.25))
    model.add(compat.Flatten())
    model.add(compat.Dense(512))
    model.add(compat.Activation("relu"))
    model.add(compat.Dropout(0.5))
    model.add(compat.Dense(NUM_CLASSES))
    model.add(compat.Activation("softmax"))
    opt, hp, deviations = compat.optimizer("rmsprop", lr=1e-4, decay=1e-6)
    compat.compile_model(model, "categorical_crossentropy", opt)
    _, augmentation_notes = compat.ImageDataGenerator(**AUGMENTATION)
    augmentation = dict(AUGMENTATION, fill_mode="nearest", interpolation_order=0, notes=augmentation_notes)
    hyperparameters = {"optimizer": "RMSprop", "image_data_format": compat.image_data_format(),
                       "steps_per_epoch": steps_per_epoch(spec, data), "augmentation": augmentation,
                       "data_feeding": compat.data_feeding(), "evaluation": evaluation_mode()}
    hyperparameters.update(hp)
    deviations = deviations + [
        "test metrics from the clean test set (evaluate); the 2017 article's 0.77 came from evaluate_generator on "
        "augmented test batches (ORCHESTRATE_CIFAR10_EVAL=augmented adds those as augmented_loss / "
        "augmented_accuracy%s)" % (": added here" if evaluation_mode() == "clean+augmented" else "")]
    return model, {"hyperparameters": hyperparameters, "deviations": deviations}


def evaluation_mode():
    raw = os.environ.get("ORCHESTRATE_CIFAR10_EVAL", "clean").strip().lower()
    if raw not in ("clean", "augmented"):
        raise ValueError("ORCHESTRATE_CIFAR10_EVAL=%r (from the matrix environment's env:) must be clean or "
                         "augmented" % raw)
    return "clean" if raw == "clean" else "clean+augmented"


def evaluate(spec, model, data):
    """The clean test set (the metric); with the option, also the article's augmented test batches."""
    metrics = compat.evaluate(model, data["x_test"], data["y_test"], spec["batch_size"])
    if evaluation_mode() == "clean+augmented":
        datagen, _ = compat.ImageDataGenerator(**AUGMENTATION)
        flow = datagen.flow(data["x_test"], data["y_test"], batch_size=spec["batch_size"])
        steps = max(1, len(data["x_test"]) // spec["batch_size"])
        augmented = compat.evaluate_generator(model, flow, steps, spec["batch_size"])
        metrics.update(("augmented_" + k, v) for k, v in augmented.items())
    return metrics


def fit(spec, model, data, callbacks):
    """Upstream: datagen.fit(x_train), then fit_generator(datagen.flow(x_train, y_train, batch_size=32), ...)."""
    datagen, _ = compat.ImageDataGenerator(**AUGMENTATION)
    datagen.fit(data["x_train"])  # a no-op without featurewise statistics, kept as upstream has it
    flow = datagen.flow(data["x_train"], data["y_train"], batch_size=spec["batch_size"])
    compat.fit_generator(model, flow, steps_per_epoch(spec, data), spec["epochs"], spec["batch_size"],
                         validation_data=(data["x_test"], data["y_test"]), callbacks=callbacks)
