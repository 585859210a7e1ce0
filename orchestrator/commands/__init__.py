"""One small module per command, each with a testable `run(args, console) -> int`."""
