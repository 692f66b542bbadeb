"""Side-by-side benchmarks of regexplore against skopeo and python-dxf (``python -m benchmarks.run``)."""
