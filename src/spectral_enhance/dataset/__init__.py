"""Building the paired dataset: the degradation recipe and the clips it makes."""
