"""The project stage: how files relate (index), jobs assembled from them, where data goes."""
