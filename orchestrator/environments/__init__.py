"""Environments: their cache layout and content hash (layout), the interpreters they are built with
(interpreters), the system packages they need (system_packages) and the lock that makes a build safe to share
(locks)."""
