"""The embed room: CLIP models (loading, weights download), image and text embeddings, fine-tuning."""
