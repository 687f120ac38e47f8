"""Benchmarks: region-scale generated files and timed imports, printing ratios against a baseline
measured in the same run. Not timed tests: run them with `make bench`."""
