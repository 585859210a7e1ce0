"""A user's own model file as a workload: checking the file before anything runs, and the `--model` run."""
