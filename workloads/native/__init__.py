"""The cost of Keras: the workloads written in each framework's own API (PyTorch, JAX with flax nnx +
optax, TensorFlow 2 without Keras), run by native/runner.py in the native environments only."""
