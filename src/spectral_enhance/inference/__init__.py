"""Enhancing audio with an exported model: the model card, the enhancer, the batch runner."""
