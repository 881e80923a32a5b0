"""Classic unsupervised rPPG methods on (T, 3) mean-RGB traces."""
