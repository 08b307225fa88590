"""Assurance evidence produced from the model and data themselves: robustness under attack,
validation and explanations (docs/assurance.md)."""
