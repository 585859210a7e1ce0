"""babi_rnn: keras-team/keras examples/babi_rnn.py at 5ce69728 (Keras 2.0.8).

story: Input(story_maxlen) -> Embedding(vocab, 50) -> Dropout .3;
question: Input(query_maxlen) -> Embedding(vocab, 50) -> Dropout .3 -> LSTM 50 -> RepeatVector(story_maxlen);
add -> LSTM 50 -> Dropout .3 -> Dense(vocab) softmax; optimizer 'adam' (Keras 2.0.8 defaults: lr=0.001,
beta_1=0.9, beta_2=0.999, epsilon=1e-8); batch 32, 40 epochs upstream (the article's too),
validation_split=0.05, test accuracy from evaluate(batch_size=32).

Data: bAbI QA1 with 10,000 questions (tasks_1-20_v1-2/en-10k), not upstream's default en/qa2 (1k):
vocab_size 22, story_maxlen 68, query_maxlen 4, 43,722 parameters. Upstream preprocessing in datasets.py.
"""

import compat
import datasets

EMBED_HIDDEN_SIZE = 50
VALIDATION_SPLIT = 0.05


def load(spec):
    (x, xq, y), (tx, txq, ty), meta, info = datasets.load_babi(spec)
    data = {"x_train": [x, xq], "y_train": y, "x_test": [tx, txq], "y_test": ty, "meta": meta,
            "samples_per_epoch": training_split(len(x))}
    return data, info


def training_split(samples):
    """How many samples Keras trains on with validation_split: it holds out the last ones, split at
    int(n * (1 - validation_split)) (Keras 1.2.2, 2.x and 3 alike)."""
    return int(samples * (1.0 - VALIDATION_SPLIT))


def build(spec, data):
    meta = data["meta"]
    vocab_size, story_maxlen, query_maxlen = meta["vocab_size"], meta["story_maxlen"], meta["query_maxlen"]

    sentence = compat.Input(shape=(story_maxlen,), dtype="int32", batch_size=spec["batch_size"])
    encoded_sentence = compat.Embedding(vocab_size, EMBED_HIDDEN_SIZE)(sentence)
    encoded_sentence = compat.Dropout(0.3)(encoded_sentence)

    question = compat.Input(shape=(query_maxlen,), dtype="int32", batch_size=spec["batch_size"])
    encoded_question = compat.Embedding(vocab_size, EMBED_HIDDEN_SIZE)(question)
    encoded_question = compat.Dropout(0.3)(encoded_question)
    encoded_question = compat.LSTM(EMBED_HIDDEN_SIZE)(encoded_question)
    encoded_question = compat.RepeatVector(story_maxlen)(encoded_question)

    merged = compat.add([encoded_sentence, encoded_question])
    merged = compat.LSTM(EMBED_HIDDEN_SIZE)(merged)
    merged = compat.Dropout(0.3)(merged)
    preds = compat.Dense(vocab_size, activation="softmax")(merged)

    model = compat.Model([sentence, question], preds)
    opt, hp, deviations = compat.optimizer("adam")
    compat.compile_model(model, "categorical_crossentropy", opt)
    hyperparameters = {"optimizer": "Adam", "lstm": compat.LSTM_HYPERPARAMETERS,
                       "validation_split": VALIDATION_SPLIT, "vocab_size": vocab_size,
                       "story_maxlen": story_maxlen, "query_maxlen": query_maxlen}
    hyperparameters.update(hp)
    return model, {"hyperparameters": hyperparameters, "deviations": deviations + compat.lstm_deviations()
                              + compat.input_deviations(spec["batch_size"])}


def fit(spec, model, data, callbacks):
    compat.fit(model, data["x_train"], data["y_train"], spec["batch_size"], spec["epochs"],
               validation_split=VALIDATION_SPLIT, callbacks=callbacks)
