"""Numbers to decisions: statistics, verdicts, multiple comparisons, sequential repeats, change detection."""
