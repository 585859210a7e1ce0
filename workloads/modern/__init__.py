"""Today's models (Keras 3 only): KerasHub BERT and GPT-2, keras.applications ResNet-50, KerasHub ViT."""
