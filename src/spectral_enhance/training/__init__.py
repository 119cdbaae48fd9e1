"""Training a model and exporting it: configuration, losses, the training loop, ONNX export."""
