"""Evaluation: metric functions (and, later, the evaluator networks and the evaluate command)."""
