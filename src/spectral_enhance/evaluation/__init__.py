"""Measuring systems on a dataset split: the metrics, the evaluation runner, the figures."""
