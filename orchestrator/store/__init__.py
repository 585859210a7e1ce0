"""Every run in one store: an index of every cell result across runs, machines and releases.

The run's JSON files stay the record of a run; the store indexes them so that history, change detection and the
CI gate can see across runs. One schema (store/schema.py, versioned and migrated) for an embedded SQLite file
(default: `results/store.sqlite`) and a team's PostgreSQL server (`store:` in the matrix or `--store URL`).
"""
