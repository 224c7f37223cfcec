"""Helpers shared by the test suites and benchmarks (a real server, test images)."""
