"""A valid tiny model file (synthetic data): the user-file-travels tests run it on each runtime."""

from _tiny import load, tiny_model  # noqa: F401  (a model file may import modules beside it)


def build(spec, data):
    return tiny_model()
