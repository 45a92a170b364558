"""Teaching a trained text-to-image model a new concept (lesson 11) — three ways, from cheapest to heaviest:

    words        textual inversion: one new word's embedding is all that trains (k × D numbers)
    lora         LoRA: low-rank updates W + s (α/r) B A on chosen layers (a small file, a knob at inference)
    dreambooth   fine-tune the whole denoiser, with the prior-preservation loss against forgetting
    concepts     the lesson's new concepts — a box and a dot drawn on MNIST digits, a backhand style — and
                 their closed-form detectors
    files        adapters saved alone and attached to the base model they were trained on (under new spellings:
                 two learned words in one prompt)
    memory       what a training step holds: gradients, AdamW's state, activations, the measured peak
"""
from .concepts import draw, examples, score
from .dreambooth import class_prior, prior_preservation_loss
from .files import adapter_path, attach, load_lora, load_words, save_lora, save_words, shipped_adapters
from .lora import LoRALayer, add_lora, count, lora_layers, merge, set_scale, unmerge
from .memory import peak_memory, training_memory
from .words import WordEmbedding, add_words, bake_words, freeze_all_but_words, new_words

__all__ = ["draw", "examples", "score", "class_prior", "prior_preservation_loss", "adapter_path", "attach", "shipped_adapters", "load_lora", "load_words",
           "save_lora", "save_words", "LoRALayer", "add_lora", "count", "lora_layers", "merge", "set_scale",
           "unmerge", "WordEmbedding", "add_words", "bake_words", "freeze_all_but_words", "new_words", "peak_memory",
           "training_memory"]
