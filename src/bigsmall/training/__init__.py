"""Training: multi-task losses and one generic loop."""
