"""One small module per command: `add_parser` (argparse) and `run(args, console) -> int`, which turns the parsed
arguments into plain values and calls a workflow; shared argparse pieces live in `_options.py`."""
