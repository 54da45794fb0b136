# Benchmarks: `make bench` builds and runs them and prints a table.
