"""CPP clustering: an MLC rate-reduction head on photo features, spectral read-out, coding-length k."""

from __future__ import annotations

from engine.cluster.estimator import CPPClusterer

__all__ = ["CPPClusterer"]
