"""Rendering only: terminal tables (rich), PNG figures and HTML pages of the facts and decisions that
orchestrator/analysis/ made (faster / slower / tie, validity, the article's claims, energy validity, change steps).
Nothing here decides; HTML tables are all written by html_table.py."""
