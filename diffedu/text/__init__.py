"""Text conditioning at digit scale (lesson 10): captions computed from pixels, a word-level tokenizer, a small
CLIP trained contrastively. (Sampling from prompts: ``model.given(prompts, w)``; CLIP guidance:
``diffedu.guidance.CLIPGuided``.)

    attributes   stroke thickness and slant measured on a digit's ink
    captions     "a thick slanted seven": templates, synonyms, held-out (digit, attribute) pairs; their closed
                 vocabulary and its tokenizer (the class: ``models.tokenizer``; unknown words are errors)
    clip         the symmetric InfoNCE loss, zero-shot classification (the networks: ``models.clip``)
    scores       do samples follow their prompts? (the digit by a classifier, the attributes measured)
"""
from .attributes import slant, thickness
from .captions import HELD_OUT, attributes, caption, caption_tokenizer, caption_vocabulary, captions, mentioned
from .clip import info_nce, zero_shot
from .scores import prompt_agreement, summary

__all__ = ["thickness", "slant", "attributes", "caption", "captions", "mentioned", "HELD_OUT", "caption_vocabulary",
           "caption_tokenizer", "info_nce", "zero_shot", "prompt_agreement", "summary"]
