"""Training: the loop, checkpoints, run directories, and exact accumulation (GradCache)."""

from latentatlas.train.gradcache import accumulate_gradients, all_gather_with_grad, triplet_koleo_objective

__all__ = ["accumulate_gradients", "all_gather_with_grad", "triplet_koleo_objective"]
