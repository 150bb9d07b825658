"""Validation rules and predictors: expressions, rule analysis, predictions."""
