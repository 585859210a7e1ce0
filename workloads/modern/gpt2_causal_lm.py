"""gpt2_causal_lm: a GPT-2-style causal language model (KerasHub GPT2Backbone + GPT2CausalLM, random weights).

Trained on bAbI QA1 (en-10k) token sequences (story, question, answer): next-token prediction, padding masked
out by sample weights. After training, generation speed: the test prompts (all but their last
`generate_tokens` tokens) completed by greedy generation, in generated tokens per second (a warm-up call
first, which carries the compile; then timed calls until they fill a window of `generate_min_s` seconds, 3 calls
at least and 50 at most, and the median call), recorded with the test metrics. One call of a small model takes tens
of milliseconds, where one stall of the machine triples it: the window makes each repeat's figure a median. Sizes from the matrix
(options). keras-benchmarks' GPT-2 is gpt2_base_en (12 layers, 768 wide), fit at sequence 512.
"""

import time

import keras
import keras_hub
import numpy as np

from modern import common


def load(spec):
    train, test, meta, info = common.babi_sequences(spec)
    data = {"x_train": inputs(train), "y_train": train[:, 1:], "x_test": inputs(test), "y_test": test[:, 1:],
            "sw_train": (train[:, 1:] > 0).astype("float32"), "sw_test": (test[:, 1:] > 0).astype("float32"),
            "meta": meta, "test_sequences": test}
    return data, info


def inputs(seq):
    ids = seq[:, :-1]
    return {"token_ids": ids, "padding_mask": ids > 0}


def build(spec, data):
    meta = data["meta"]
    config = {"vocabulary_size": meta["vocab_size"], "num_layers": common.option(spec, "num_layers", 2),
              "num_heads": common.option(spec, "num_heads", 2), "hidden_dim": common.option(spec, "hidden_dim", 128),
              "intermediate_dim": common.option(spec, "intermediate_dim", 512),
              "max_sequence_length": data["x_train"]["token_ids"].shape[1]}
    backbone = keras_hub.models.GPT2Backbone(**config)
    model = keras_hub.models.GPT2CausalLM(backbone=backbone, preprocessor=None)
    model.compile(optimizer=keras.optimizers.AdamW(), weighted_metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model, common.recorded(config, optimizer="AdamW", keras_hub=common.keras_hub_version(),
                                  task="next token of bAbI QA1 story + question + answer")


def fit(spec, model, data, callbacks):
    model.fit(data["x_train"], data["y_train"], sample_weight=data["sw_train"], batch_size=spec["batch_size"],
              epochs=spec["epochs"], callbacks=callbacks, verbose=0,
              validation_data=(data["x_test"], data["y_test"], data["sw_test"]))


def evaluate(spec, model, data):
    loss, accuracy = model.evaluate(data["x_test"], data["y_test"], sample_weight=data["sw_test"],
                                    batch_size=spec["batch_size"], verbose=0)
    metrics = {"loss": float(loss), "accuracy": float(accuracy)}
    metrics.update(generation_speed(spec, model, data))
    return metrics


def generation_speed(spec, model, data):
    """Greedy completion of the last `generate_tokens` tokens of test sequences: generated tokens per second."""
    new = int(common.option(spec, "generate_tokens", 8))
    batch = min(int(common.option(spec, "generate_batch", spec["batch_size"])), len(data["test_sequences"]))
    seq = data["test_sequences"][:batch, :-1]
    mask = seq > 0
    mask[:, -new:] = False  # the positions generate() fills
    prompts = {"token_ids": np.where(mask, seq, 0), "padding_mask": mask}
    model.generate(prompts, stop_token_ids=None)  # warm-up: traces and compiles the sampler
    window = float(common.option(spec, "generate_min_s", 0.5))
    calls = []
    while len(calls) < MAX_CALLS and (len(calls) < MIN_CALLS or sum(calls) < window):
        t0 = time.perf_counter()
        model.generate(prompts, stop_token_ids=None)
        calls.append(time.perf_counter() - t0)
    seconds = float(np.median(calls))
    return {"generate_tokens_per_s": batch * new / seconds, "generate_batch": float(batch),
            "generate_new_tokens": float(new), "generate_calls": float(len(calls)),
            "generate_window_s": float(sum(calls))}


MIN_CALLS = 3   # timed generate() calls per repeat, at least
MAX_CALLS = 50  # and at most, however short a call


def inference_inputs(spec, data):
    return data["x_test"]
