"""What a command does, called with plain values: a run (with its rounds of sequential repeats), building
environments, writing reports, comparing runs, recording to the store and reading it back. The layer below the
commands, which only parse arguments."""
