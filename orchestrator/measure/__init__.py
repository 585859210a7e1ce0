"""What a cell uses while it runs: its GPUs through NVML (gpus), its process tree and GPUs sampled (monitor),
joules per epoch from those samples (energy), and the framework-side device the model ran on (device)."""
