"""vit_classifier: a ViT image classifier (KerasHub ViTBackbone + ViTImageClassifier, random weights).

CIFAR-10's 32x32 images in patches (options: patch_size, num_layers, num_heads, hidden_dim, mlp_dim), class
token pooling, 10 classes, AdamW, preprocessor=None.
"""

import keras
import keras_hub

from modern import common


def load(spec):
    return common.cifar10_images(spec)


def build(spec, data):
    config = {"image_shape": tuple(data["x_train"].shape[1:]), "patch_size": common.option(spec, "patch_size", 4),
              "num_layers": common.option(spec, "num_layers", 4), "num_heads": common.option(spec, "num_heads", 4),
              "hidden_dim": common.option(spec, "hidden_dim", 128), "mlp_dim": common.option(spec, "mlp_dim", 256)}
    backbone = keras_hub.models.ViTBackbone(**config)
    model = keras_hub.models.ViTImageClassifier(backbone=backbone, num_classes=10, preprocessor=None)
    model.compile(optimizer=keras.optimizers.AdamW(), metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    config["image_shape"] = list(config["image_shape"])
    return model, common.recorded(config, optimizer="AdamW", keras_hub=common.keras_hub_version())
