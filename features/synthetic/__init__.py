"""Generate a realistic synthetic B2B CRM with a hidden truth, so the pipeline can be tested end to end.

The truth (each lead's persona and daily buying state) lets tests compare a trained model
with the best possible one: `true_probability` is the exact probability of a win within
the horizon given everything that could be known.
"""

from leadscore.features.synthetic.chain import true_probability
from leadscore.features.synthetic.generate import SETTINGS, SyntheticCrm, generate_crm, write_crm

__all__ = ["SETTINGS", "SyntheticCrm", "generate_crm", "true_probability", "write_crm"]
