"""bert_classifier: a BERT-style text classifier (KerasHub BertBackbone + BertTextClassifier, random weights).

bAbI QA1 (en-10k) as classification: [story tokens][question tokens] (segment ids 0 / 1) -> the answer word,
one of the vocabulary's 22 ids. preprocessor=None: token ids go straight in (bAbI's own vocabulary, no
WordPiece). Sizes from the matrix (options: num_layers, num_heads, hidden_dim, intermediate_dim); AdamW as
keras-benchmarks' BERT. keras-benchmarks' BERT is bert_base_en (12 layers, 768 wide) at sequence 512.
"""

import keras
import keras_hub
import numpy as np

from modern import common


def load(spec):
    train, test, meta, info = common.babi_sequences(spec)
    story_len = meta["story_maxlen"]

    def features(seq):
        ids = seq[:, :-1]
        segments = np.zeros_like(ids)
        segments[:, story_len:] = 1
        return {"token_ids": ids, "segment_ids": segments, "padding_mask": ids > 0}

    data = {"x_train": features(train), "y_train": train[:, -1], "x_test": features(test), "y_test": test[:, -1],
            "meta": meta}
    return data, info


def build(spec, data):
    meta = data["meta"]
    seq_len = data["x_train"]["token_ids"].shape[1]
    config = {"vocabulary_size": meta["vocab_size"], "num_layers": common.option(spec, "num_layers", 2),
              "num_heads": common.option(spec, "num_heads", 2), "hidden_dim": common.option(spec, "hidden_dim", 128),
              "intermediate_dim": common.option(spec, "intermediate_dim", 512), "max_sequence_length": seq_len}
    backbone = keras_hub.models.BertBackbone(**config)
    model = keras_hub.models.BertTextClassifier(backbone=backbone, num_classes=meta["vocab_size"],
                                                preprocessor=None)
    model.compile(optimizer=keras.optimizers.AdamW(), metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model, common.recorded(config, optimizer="AdamW", keras_hub=common.keras_hub_version(),
                                  task="bAbI QA1 answer as a 22-way classification")
