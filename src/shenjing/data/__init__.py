"""Data: built-in datasets, CSV reading, preprocessing and the target column."""
