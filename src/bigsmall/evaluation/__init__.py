"""Evaluation: per-recording signals, rates, metrics and reports."""
