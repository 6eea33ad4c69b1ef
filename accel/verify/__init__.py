"""Verification: random programs, differential fuzzing and the formal harness."""
