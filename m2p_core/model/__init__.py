"""The Music2Palette model: front end, encoder, emotion head, colour decoder, checkpoints.

:mod:`.checkpoint` — Checkpoint files: save, verify (sha256), load with ``weights_only=True``
    FORMAT, FORMAT_V2, DEFAULT_CHECKPOINT_NAME, FAST_CHECKPOINT_NAME, MODEL_ALIASES,
    CheckpointError, LoadedModel, default_checkpoint_path, shipped_checkpoint_path,
    resolve_model_path,
    sha256_of_file, sha256_of_bytes, model_version_of, checkpoint_stem, model_version_of_bytes,
    save_checkpoint, read_checkpoint_bytes, load_checkpoint
:mod:`.decoder` — The learned colour decoder: K colour queries attending to the music
    PaletteDecoder, seeded_noise
:mod:`.descriptor_head` — A kernel head on the hand-made descriptors: RBF support-vector machines …
    KernelDescriptorHead
:mod:`.frontend` — Spectrogram front end and hand-made audio descriptors, in torch
    N_MFCC, CHROMA_N_FFT, DESCRIPTOR_NAMES, DESCRIPTOR_INDEX, filterbanks, LogMelFrontEnd
:mod:`.network` — The Music2Palette model: raw waveform -> valence/arousal + a K-colour palette
    ModelConfig, MusicEncoder, Music2Palette
:mod:`.v2` — Music2Palette v2: v1 + the frozen musicnn (MSD) tagger + a calibrated emotion head
    FEATURE_BLOCKS, MUSICNN_BLOCKS, V1_BLOCKS, HEAD_KINDS, HeadConfig, CalibratedEmotionHead,
    Music2PaletteV2, fold_scaler, quadrant_axis_logits, with_lapse, fit_length
:mod:`.russell` — Russell's circumplex: quadrants of the valence × arousal plane …
    QUADRANT_SIGNS, QUADRANT_NAMES, QUADRANTS, quadrant_of

Names are imported from their module on first use (:mod:`m2p_core.lazy`).
"""

from m2p_core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, __doc__)
