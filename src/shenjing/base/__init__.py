"""The base of the package: errors, input checks, stable maths, registries, files, the array seam.

Every other part imports from here; nothing here imports any other part.
"""
