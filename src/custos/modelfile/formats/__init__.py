"""One module per model format (and the configuration files that make loaders run code): NumPy,
joblib, PyTorch, Keras, ONNX, SavedModel, safetensors, GGUF, MLmodel, Hugging Face configs and
chat templates, text, and files that are not models.
"""
